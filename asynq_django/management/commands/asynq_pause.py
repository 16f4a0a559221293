"""``manage.py asynq_pause QUEUE...``: workers stop taking tasks of these queues."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from asynq_django.clients import get_inspector
from asynq_django.management.base import asynq_errors, settings_or_error


class Command(BaseCommand):
    help = (
        "Pause queues: workers stop taking their tasks (enqueueing still works). A queue must "
        "be known: registered in Redis or listed in ASYNQ QUEUES."
    )
    action = "pause"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("queues", nargs="+", metavar="QUEUE")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = settings_or_error()
        inspector = get_inspector(settings)
        with asynq_errors():
            known = {*inspector.queues(), *settings.queues}
        # Redis would pause any name, so a typo would silently pause nothing that exists.
        unknown = [queue for queue in options["queues"] if queue not in known]
        if unknown:
            raise CommandError(
                f"unknown queue {unknown[0]!r}: not in Redis and not in ASYNQ QUEUES "
                f"(known: {', '.join(sorted(known)) or 'none'})"
            )
        for queue in options["queues"]:
            with asynq_errors():
                getattr(inspector, f"{self.action}_queue")(queue)
            self.stdout.write(f"{self.action}d queue {queue!r}")
