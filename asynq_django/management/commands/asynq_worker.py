"""``manage.py asynq_worker``: process tasks with the project's Django tasks and handlers."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from django.conf import settings as django_settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils import autoreload
from django.utils.module_loading import autodiscover_modules, import_string

from asynq import AsynqError, Server
from asynq.runner import run_worker
from asynq_django.clients import get_inspector
from asynq_django.conf import AsynqSettings, SettingsError, parse_queues
from asynq_django.management.base import asynq_errors, settings_or_error
from asynq_django.worker import DjangoHandler, worker_config

log = logging.getLogger("asynq_django")


def parse_queue_options(values: list[str]) -> dict[str, int]:
    """``["critical=6", "default,low"]`` -> ``{"critical": 6, "default": 1, "low": 1}``.

    Raises:
        CommandError: a weight that is not a whole number >= 1, or a blank name.
    """
    queues: dict[str, Any] = {}
    for value in values:
        for part in value.split(","):
            name, sep, weight = part.strip().partition("=")
            try:
                queues[name.strip()] = int(weight) if sep else 1
            except ValueError:
                raise CommandError(f"queue weight must be a whole number: {part!r}") from None
    try:
        return parse_queues(queues)
    except SettingsError as exc:
        raise CommandError(str(exc).replace("QUEUES", "--queue")) from None


def every_queue(settings: AsynqSettings, given: dict[str, int]) -> dict[str, int]:
    """``-q '*'``: every queue registered in Redis (and every configured or given one), with
    the weight given, else configured, else 1."""
    with asynq_errors():
        registered = get_inspector(settings).queues()
    weights = {**dict(settings.queues), **given}
    names = {*registered, *settings.queues, *given} - {"*"}
    return {name: weights.get(name, 1) for name in sorted(names)}


def setup_logging(verbosity: int) -> None:
    """Verbosity 0 warns, 1 informs, 2+ debugs, for the ``asynq`` and ``asynq_django``
    loggers and ``django.tasks`` (``django_tasks``, the backport's; their records say each
    Django task's state as the worker runs it); the project's ``LOGGING`` still decides where
    records go."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    for name in ("asynq", "asynq_django", "django.tasks", "django_tasks"):
        logging.getLogger(name).setLevel(level)
    if not logging.getLogger().handlers and not logging.getLogger("asynq").handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class Command(BaseCommand):
    help = (
        "Run an asynq worker: Django tasks (django.tasks) and the ASYNQ['HANDLER'] handler. "
        "SIGTERM/SIGINT stop it gracefully; a second signal requeues the running tasks at once."
    )
    requires_system_checks: list[str] = []  # run after autodiscovery, below

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-q",
            "--queue",
            action="append",
            default=[],
            metavar="NAME[=WEIGHT]",
            help="Queue to process (repeatable, or comma-separated; * adds every queue in "
            "Redis) [default: ASYNQ QUEUES].",
        )
        parser.add_argument("-c", "--concurrency", type=int, help="Tasks processed at once.")
        parser.add_argument(
            "--strict", action="store_true", help="Drain higher-weight queues first."
        )
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Exit (status 0) once the queues are drained; an error when Redis cannot be "
            "reached to tell.",
        )
        parser.add_argument(
            "--reload",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Restart when code changes [default: on when DEBUG, off with --burst].",
        )
        parser.add_argument(
            "--no-autodiscover",
            action="store_true",
            help="Do not import the ASYNQ AUTODISCOVER modules (tasks.py) of every app.",
        )
        parser.add_argument(
            "--handler", help="Dotted path of the handler for non-Django task types."
        )
        parser.add_argument(
            "--skip-checks", action="store_true", help="Skip the system checks at start."
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Run this many worker servers in forked processes under a supervisor.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = settings_or_error()
        concurrency = options["concurrency"]
        if concurrency is not None and concurrency < 1:
            raise CommandError(f"--concurrency must be at least 1, not {concurrency}")
        queues = parse_queue_options(options["queue"]) if options["queue"] else None
        if queues is not None and "*" in queues:
            queues = every_queue(settings, queues)
        processes = options["processes"]
        if processes < 1:
            raise CommandError(f"--processes must be at least 1, not {processes}")
        if processes > 1 and (options["burst"] or options["reload"]):
            raise CommandError("--processes cannot be combined with --burst or --reload")
        setup_logging(options["verbosity"])
        reload = options["reload"]
        if reload is None:
            reload = bool(django_settings.DEBUG) and not options["burst"] and processes == 1
        run = lambda: self._run(settings, queues, concurrency, options)  # noqa: E731
        if reload:
            autoreload.run_with_reloader(run)
        else:
            run()

    def _run(
        self, settings: Any, queues: dict[str, int] | None, concurrency: int | None, options: Any
    ) -> None:
        if not options["no_autodiscover"]:
            for module in settings.autodiscover:
                autodiscover_modules(module)
        if not options["skip_checks"]:
            self.check(display_num_errors=False)
        handler_path = options["handler"] or settings.handler
        try:
            fallback = import_string(handler_path) if handler_path else None
        except ImportError as exc:
            raise CommandError(f"cannot import handler {handler_path!r}: {exc}") from None
        try:
            config = worker_config(
                settings,
                queues=queues,
                concurrency=concurrency,
                strict_priority=options["strict"] or None,
            )
        except AsynqError as exc:
            raise CommandError(str(exc)) from None
        if options["processes"] > 1:
            self._run_processes(settings, config, fallback, options["processes"])
            return
        try:
            server = Server(settings.connection(), config)
        except AsynqError as exc:
            raise CommandError(str(exc)) from None
        handler = DjangoHandler(settings, fallback, worker_id=server.server_id)
        log.info(
            "asynq worker %s: queues %s, concurrency %d",
            server.server_id,
            dict(config.queues),
            config.concurrency,
        )
        with asynq_errors():  # burst mode without Redis, a crashed server: one line, status 1
            server.run(handler, burst=options["burst"])

    def _run_processes(self, settings: Any, config: Any, fallback: Any, processes: int) -> None:
        # Each forked child builds its own server; the Django connections the checks opened
        # belong to the parent and must not be shared with the children.
        connections.close_all()
        handler = DjangoHandler(settings, fallback)  # worker ids: <host>:<pid> per child
        log.info(
            "asynq worker: %d processes, queues %s, concurrency %d each",
            processes,
            dict(config.queues),
            config.concurrency,
        )
        status = run_worker(handler, config, redis=settings.connection(), processes=processes)
        if status:
            raise CommandError(f"the worker processes stopped with status {status}")
