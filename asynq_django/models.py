"""The admin's anchor: an unmanaged model without a table, carrying the two permissions.

- ``asynq_django.view_dashboard``: see queues, tasks, servers, schedulers and Redis.
- ``asynq_django.manage_tasks``: act on them (run, archive, delete, cancel, pause).
"""

from __future__ import annotations

from django.db import models


class Dashboard(models.Model):
    """No rows, no table: it only gives the admin a place and the permissions a model."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboard", "Can view the asynq dashboard"),
            ("manage_tasks", "Can run, archive, delete and cancel tasks and pause queues"),
        ]
        verbose_name = "task queue dashboard"
        verbose_name_plural = "task queue dashboard"
