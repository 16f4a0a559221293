"""The Django app: add ``"asynq_django"`` to ``INSTALLED_APPS``."""

from __future__ import annotations

from django.apps import AppConfig


class AsynqConfig(AppConfig):
    """Registers the system checks and the settings-change receiver; touches no Redis."""

    name = "asynq_django"
    verbose_name = "Asynq"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from asynq_django import checks, clients, conf, transactions  # noqa: F401 - registers

        # Task functions' .enqueue() in views goes to ASYNQ's Redis (no connection made yet).
        clients.configure_defaults()
        # ... and waits for the transaction's commit when asked to.
        transactions.install_commit_hook()
