from django.db import models


class Order(models.Model):
    item = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, default="placed")
    receipt = models.CharField(max_length=200, blank=True, default="")
    task_id = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"#{self.pk} {self.quantity} x {self.item} ({self.status})"
