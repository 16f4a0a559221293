"""``flask asynq ...``: the worker, the scheduler and a few operations, for the current app.

``init_app`` adds the group to ``app.cli``, so it works with ``flask --app pkg:create_app`` and
with ``FLASK_APP`` alike, and every command runs inside the app's context:

- ``flask asynq worker``: runs the task functions registered on the app's extension, each in a
  fresh app context, with the ``ASYNQ_*`` server settings (flags override them);
- ``flask asynq scheduler [TARGET]``: runs ``ASYNQ_SCHEDULER`` (or TARGET);
- ``flask asynq stats``, ``flask asynq pause QUEUE...``, ``flask asynq unpause QUEUE...``: the
  ``asynq`` command line's ``stats``, ``queue pause`` and ``queue resume``, on the app's Redis.

The worker and the scheduler are :func:`asynq.runner.run_worker` and
:func:`asynq.runner.run_scheduler`: graceful on SIGTERM/SIGINT, and bad input is one logged line
and exit status 1.
"""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from asynq.cli import main as asynq_main
from asynq.cli._run import (
    burst_option,
    exit_with,
    import_option,
    log_level_option,
    processes_option,
    worker_options,
    worker_settings,
)
from asynq.errors import AsynqError
from asynq.runner import run_scheduler, run_worker
from asynq_flask.extension import EXTENSION_KEY, AsynqState
from asynq_flask.worker_process import app_worker

__all__ = ["asynq_cli"]

#: Sub-commands that hand their arguments on to the ``asynq`` command line.
_PASS_THROUGH: dict[str, Any] = {"ignore_unknown_options": True, "allow_interspersed_args": False}


class _UsageErrorInOneLine(click.ClickException):
    """A malformed flag, shown as the one ``Error: ...`` line (exit status 2)."""

    exit_code = 2


class _Command(click.Command):
    """A command whose malformed flags are one line, like every other bad input here.

    click's default prints the usage and a hint before the error; a deployment script or a
    process manager's log then shows three lines for one mistake.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _UsageErrorInOneLine(exc.format_message()) from None


class _Group(AppGroup):
    command_class = _Command


asynq_cli = _Group("asynq", help="Run asynq workers and schedulers for this app.")


def _state() -> AsynqState:
    state = current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, AsynqState):
        raise click.ClickException(
            f"the app {current_app.name!r} has no asynq extension: call Asynq(app) or "
            "asynq.init_app(app) in the app factory"
        )
    return state


@asynq_cli.command("worker")
@worker_options
@import_option
@log_level_option
@processes_option
@burst_option
def worker(
    concurrency: int | None,
    queues: tuple[tuple[str, int], ...],
    strict: bool,
    imports: tuple[str, ...],
    log_level: str,
    processes: int,
    burst: bool,
) -> None:
    """Run a worker server for the task functions of this app's asynq extension.

    Each task runs inside a fresh app context. Stop it with Ctrl-C or SIGTERM (graceful);
    with --processes N, N forked worker processes run under a supervisor; with --burst it
    exits by itself once the queues are drained.
    """
    try:
        # The worker `asynq worker app:app` runs too; it imports ASYNQ_IMPORTS first.
        app = app_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    except AsynqError as exc:
        raise click.ClickException(str(exc)) from None
    exit_with(
        run_worker(
            app,
            worker_settings(concurrency, queues, strict),
            imports=imports,
            log_level=log_level,
            processes=processes,
            burst=burst,
        )
    )


@asynq_cli.command("scheduler")
@click.argument("target", required=False)
@click.option("--factory", is_flag=True, help="TARGET is a callable returning the scheduler.")
@import_option
@log_level_option
def scheduler(target: str | None, factory: bool, imports: tuple[str, ...], log_level: str) -> None:
    """Run TARGET, a "module:object" Scheduler (default: ASYNQ_SCHEDULER).

    TARGET may also be a PeriodicTaskManager or a periodic task config provider.
    """
    state = _state()
    target = target or state.settings.scheduler
    if not target:
        raise click.ClickException('give a TARGET or set ASYNQ_SCHEDULER to a "module:object"')
    exit_with(
        run_scheduler(
            target,
            imports=[*state.settings.imports, *imports],
            factory=factory,
            log_level=log_level,
        )
    )


def _forward(*argv: str) -> None:
    """Run the ``asynq`` command line on the app's Redis (it exits with its status)."""
    url = _state().settings.redis_url
    asynq_main([*(["--uri", url] if url else []), *argv])


@asynq_cli.command("stats", context_settings=_PASS_THROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def stats(args: tuple[str, ...]) -> None:
    """Show task counts by state and queue (as `asynq stats`; --json for JSON)."""
    _forward("stats", *args)


@asynq_cli.command("pause")
@click.argument("queues", nargs=-1, required=True)
def pause(queues: tuple[str, ...]) -> None:
    """Pause QUEUES: workers stop taking their tasks."""
    _forward("queue", "pause", *queues)


@asynq_cli.command("unpause")
@click.argument("queues", nargs=-1, required=True)
def unpause(queues: tuple[str, ...]) -> None:
    """Unpause QUEUES."""
    _forward("queue", "resume", *queues)
