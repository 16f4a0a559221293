"""``manage.py asynq_scheduler``: enqueue the periodic tasks on their schedules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules

from asynq_django.management.base import asynq_errors, settings_or_error
from asynq_django.management.commands.asynq_worker import setup_logging
from asynq_django.periodic import build_scheduler


class Command(BaseCommand):
    help = (
        "Run the scheduler of ASYNQ['PERIODIC_TASKS'] and of asynq_django.periodic() calls in "
        "the apps' tasks modules. Replicas enqueue each tick once. SIGTERM/SIGINT stop it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-autodiscover",
            action="store_true",
            help="Do not import the ASYNQ AUTODISCOVER modules (tasks.py) of every app.",
        )
        parser.add_argument(
            "--list", action="store_true", help="Print the entries and exit instead of running."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = settings_or_error()
        if not options["no_autodiscover"]:
            for module in settings.autodiscover:
                autodiscover_modules(module)
        setup_logging(options["verbosity"])
        with asynq_errors():
            scheduler = build_scheduler(settings)
        if options["list"]:
            for entry in scheduler.entries():
                opts = " ".join(entry.opts)
                self.stdout.write(f"{entry.spec}\t{entry.task.type}\t{opts}".rstrip())
            return
        with asynq_errors():
            scheduler.run()
