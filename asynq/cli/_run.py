"""Long-running commands: ``asynq worker``, ``asynq scheduler`` and ``asynq dash``."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from datetime import timedelta
from typing import Any

import click

from asynq.cli._params import INTERVAL, QUEUE_WEIGHT
from asynq.cli._state import CliError, get_state
from asynq.errors import MissingDependencyError

_LOG_LEVELS = click.Choice(["debug", "info", "warning", "error"], case_sensitive=False)


def load_object(spec: str, app_dir: str = ".") -> Any:
    """Import ``"package.module:attr.path"`` (uvicorn-style) with ``app_dir`` on ``sys.path``.

    Raises:
        CliError: malformed spec, module not importable, or attribute missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CliError(f'invalid import string {spec!r}: expected "module:object"')
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"could not import module {module_name!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CliError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


_app_dir = click.option(
    "--app-dir", default=".", show_default=True, help="Directory added to sys.path for imports."
)
_log_level = click.option("--log-level", type=_LOG_LEVELS, default="info", show_default=True)


@click.command("worker", short_help="Run a worker server with a handler.")
@click.argument("target")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), default=None, help="Workers.")
@click.option(
    "-Q",
    "--queue",
    "queues",
    type=QUEUE_WEIGHT,
    multiple=True,
    help="Queue to process as name=weight (repeatable) [default: default=1].",
)
@click.option("--strict", is_flag=True, help="Strict priority: drain higher weights first.")
@click.option("--factory", is_flag=True, help="TARGET is a callable returning the handler.")
@_app_dir
@_log_level
def worker(
    target: str,
    concurrency: int | None,
    queues: tuple[tuple[str, int], ...],
    strict: bool,
    factory: bool,
    app_dir: str,
    log_level: str,
) -> None:
    """Run a worker server processing tasks with TARGET, a "module:object" handler.

    TARGET is a ServeMux, or any callable handler (sync or async) taking a task.
    Stop it with Ctrl-C or SIGTERM (graceful); a second signal stops it at once.
    """
    from asynq.server import Config, Server

    handler = load_object(target, app_dir)
    if factory:
        handler = handler()
    if not callable(handler) and not hasattr(handler, "process_task"):
        raise CliError(f"{target!r} is not a handler: expected a ServeMux or a callable")
    settings: dict[str, Any] = {"strict_priority": strict}
    if concurrency is not None:
        settings["concurrency"] = concurrency
    if queues:
        settings["queues"] = dict(queues)
    _setup_logging(log_level)
    Server(get_state().connection.build(), Config(**settings)).run(handler)


@click.command("scheduler", short_help="Run a periodic-task scheduler.")
@click.argument("target")
@_app_dir
@_log_level
def scheduler(target: str, app_dir: str, log_level: str) -> None:
    """Run TARGET, a "module:object" Scheduler with its periodic tasks registered."""
    from asynq.scheduler import Scheduler

    obj = load_object(target, app_dir)
    if not isinstance(obj, Scheduler):
        raise CliError(f"{target!r} is not an asynq Scheduler (got {type(obj).__name__})")
    _setup_logging(log_level)
    obj.run()


@click.command("dash", short_help="Serve the web dashboard.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to bind.")
@click.option("--read-only", is_flag=True, help="Refuse every change (HTTP 405).")
@click.option("--root-path", default="", help="URL prefix when served behind a proxy.")
@click.option(
    "--refresh",
    type=INTERVAL,
    default="5s",
    show_default=True,
    help="Auto-refresh interval: seconds or a Go duration such as 8s (0: off).",
)
@_log_level
def dash(
    host: str, port: int, read_only: bool, root_path: str, refresh: timedelta, log_level: str
) -> None:
    """Serve the web dashboard (queues, tasks, servers, schedulers, Redis, /metrics)."""
    try:
        import uvicorn

        from asynq.web import create_app
    except (ImportError, MissingDependencyError):
        raise CliError(
            "the dashboard needs the 'web' extra: pip install 'asynq-python[web]'"
        ) from None
    app = create_app(
        get_state().connection.build(),
        root_path=root_path,
        read_only=read_only,
        refresh_interval=max(refresh.total_seconds(), 0.0),
    )
    click.echo(f"asynq dashboard on http://{host}:{port}{root_path}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())
