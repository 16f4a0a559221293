"""``python -m asynq_fastapi worker myapp.main:app``: a worker process inside the app's lifespan.

The same worker as ``asynq worker myapp.main:app`` (:mod:`asynq_fastapi.worker_process`), with
the same flags, for a program that prefers the adapter's own entry point, plus ``--tasks`` (what
to run, instead of the lifespan's) and ``--redis`` (instead of the lifespan's address). It
imports the app (a ``"module:attribute"`` import string, as uvicorn takes), runs the app's
lifespan, and serves the task functions until SIGTERM or SIGINT (see
:func:`asynq_fastapi.run_app_worker`). Exit status: 0 after a clean stop, 1 after one error
line when the input is bad or the start fails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import click

import asynq
from asynq._imports import import_object
from asynq.apps import AppWorker
from asynq.cli._run import (
    app_dir_option,
    burst_option,
    exit_with,
    import_option,
    log_level_option,
    processes_option,
    worker_options,
    worker_settings,
)
from asynq.cli._state import CliError
from asynq.runner import run_worker
from asynq_fastapi.worker_process import app_worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """asynq for a FastAPI app."""


@cli.command("worker")
@click.argument("app")
@click.option(
    "--tasks",
    metavar="MODULE:ATTRIBUTE",
    help="What to run (a TaskRegistry or ServeMux) [default: asynq_lifespan(tasks=...), "
    "else every @asynq.task].",
)
@click.option("--redis", help="Redis URL [default: the app's asynq_lifespan].")
@worker_options
@import_option
@app_dir_option
@log_level_option
@processes_option
@burst_option
def worker(
    app: str,
    tasks: str | None,
    redis: str | None,
    concurrency: int | None,
    queues: tuple[tuple[str, int], ...],
    strict: bool,
    imports: tuple[str, ...],
    app_dir: str,
    log_level: str,
    processes: int,
    burst: bool,
) -> None:
    """Run the task functions of APP, a FastAPI app ("module:attribute"), inside its lifespan.

    The flags override the app's asynq_lifespan settings. Stop it with Ctrl-C or SIGTERM
    (graceful); with --processes N, each of N forked processes enters the lifespan itself.
    """
    if redis is not None:
        try:
            asynq.RedisConnection.from_url(redis)
        except asynq.ValidationError as exc:
            raise CliError(str(exc)) from None
    exit_with(
        run_worker(
            _app_worker(app, tasks),
            worker_settings(concurrency, queues, strict),
            redis=redis,
            imports=imports,
            app_dir=app_dir,
            factory=True,  # imported after app_dir and imports are in place
            log_level=log_level,
            processes=processes,
            burst=burst,
        )
    )


def _app_worker(app: str, tasks: str | None) -> Callable[[], AppWorker]:
    def load() -> AppWorker:
        worker = app_worker(import_object(app), import_object(tasks) if tasks else None)
        if worker is None:
            raise asynq.ValidationError(f"{app!r} is not a FastAPI (Starlette) app")
        return worker

    return load


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="python -m asynq_fastapi")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
