"""``manage.py asynq_pause QUEUE...``: workers stop taking tasks of these queues."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from asynq_django.clients import get_inspector
from asynq_django.management.base import asynq_errors, settings_or_error


class Command(BaseCommand):
    help = "Pause queues: workers stop taking their tasks (enqueueing still works)."
    action = "pause"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("queues", nargs="+", metavar="QUEUE")

    def handle(self, *args: Any, **options: Any) -> None:
        inspector = get_inspector(settings_or_error())
        for queue in options["queues"]:
            with asynq_errors():
                getattr(inspector, f"{self.action}_queue")(queue)
            self.stdout.write(f"{self.action}d queue {queue!r}")
