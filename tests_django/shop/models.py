from django.db import models


class Order(models.Model):
    """What the tasks write to, so that tests can see a worker's database work."""

    status = models.CharField(max_length=20, default="new")
    note = models.CharField(max_length=100, blank=True, default="")
