"""Long-running commands: ``asynq worker``, ``asynq scheduler`` and ``asynq dash``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click

from asynq.cli._params import INTERVAL, QUEUE_WEIGHT
from asynq.cli._state import CliError, get_state
from asynq.errors import MissingDependencyError

F = TypeVar("F", bound=Callable[..., Any])

_LOG_LEVELS = click.Choice(["debug", "info", "warning", "error"], case_sensitive=False)


#: ``--app-dir``, shared with the FastAPI adapter's worker command.
app_dir_option = click.option(
    "--app-dir", default=".", show_default=True, help="Directory added to sys.path for imports."
)
#: ``--log-level``, shared with the framework adapters' worker commands.
log_level_option = click.option("--log-level", type=_LOG_LEVELS, default="info", show_default=True)
#: ``-I/--import MODULE`` (repeatable), shared with the framework adapters' worker commands.
import_option = click.option(
    "-I",
    "--import",
    "imports",
    multiple=True,
    metavar="MODULE",
    help="Module to import first, e.g. to register its tasks (repeatable).",
)


#: ``--processes N``, shared with the framework adapters' worker commands.
processes_option = click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (forked, supervised), each with --concurrency workers.",
)


#: ``--burst``, shared with the framework adapters' worker commands.
burst_option = click.option(
    "--burst",
    is_flag=True,
    help="Exit (status 0) once the queues are drained; tasks not due yet are not waited for. "
    "Status 1 when Redis cannot be reached to tell.",
)


def worker_options(command: F) -> F:
    """``-c/--concurrency``, ``-Q/--queue name=weight`` (repeatable) and ``--strict``: the
    worker flags, shared with the framework adapters' worker commands."""
    command = click.option(
        "--strict", is_flag=True, help="Strict priority: drain higher weights first."
    )(command)
    command = click.option(
        "-Q",
        "--queue",
        "queues",
        type=QUEUE_WEIGHT,
        multiple=True,
        help="Queue to process as name=weight (repeatable) [default: the configured queues].",
    )(command)
    return click.option(
        "-c", "--concurrency", type=click.IntRange(min=1), default=None, help="Workers."
    )(command)


@click.command("worker", short_help="Run a worker server with a handler or an app's tasks.")
@click.argument("target")
@worker_options
@click.option("--factory", is_flag=True, help="TARGET is a callable returning the handler.")
@import_option
@app_dir_option
@log_level_option
@processes_option
@burst_option
def worker(
    target: str,
    concurrency: int | None,
    queues: tuple[tuple[str, int], ...],
    strict: bool,
    factory: bool,
    imports: tuple[str, ...],
    app_dir: str,
    log_level: str,
    processes: int,
    burst: bool,
) -> None:
    """Run a worker server processing tasks with TARGET, a "module:object" handler or app.

    TARGET is a ServeMux, a TaskRegistry, or any callable handler (sync or async) taking a
    task; or a FastAPI (Starlette) or Flask app, whose tasks then run inside the app's
    lifespan or app context, with the app's asynq settings (the flags override them).
    Stop it with Ctrl-C or SIGTERM (graceful); a second signal stops it at once.
    With --processes N, N forked worker processes (each with --concurrency workers) run
    under a supervisor that replaces a crashed one and passes these signals on.
    With --burst it exits by itself once the queues hold no pending task and it runs none.
    """
    from asynq.apps import AppWorker
    from asynq.runner import load_worker, run_worker

    loaded = load_worker(target, app_dir=app_dir, imports=imports, factory=factory)
    connection = get_state().connection
    # An app has a Redis address of its own: only connection flags given here replace it.
    given = not isinstance(loaded, AppWorker) or _connection_flags_given()
    exit_with(
        run_worker(
            loaded,
            worker_settings(concurrency, queues, strict),
            redis=connection.build() if given else None,
            log_level=log_level,
            processes=processes,
            burst=burst,
        )
    )


def worker_settings(
    concurrency: int | None, queues: tuple[tuple[str, int], ...], strict: bool
) -> dict[str, Any]:
    """The Config settings :func:`worker_options` gave, and only those (an app's worker
    keeps its own for the others)."""
    settings: dict[str, Any] = {}
    if concurrency is not None:
        settings["concurrency"] = concurrency
    if queues:
        settings["queues"] = dict(queues)
    if strict:
        settings["strict_priority"] = True
    return settings


def _connection_flags_given() -> bool:
    """Whether the root command's connection flags were given on the command line (rather
    than defaulted, or ``--uri`` read from ``$ASYNQ_REDIS_URL``, which an app reads too)."""
    root = click.get_current_context().find_root()
    given = click.core.ParameterSource.COMMANDLINE
    return any(root.get_parameter_source(name) == given for name in root.params)


@click.command("scheduler", short_help="Run a periodic-task scheduler.")
@click.argument("target")
@click.option("--factory", is_flag=True, help="TARGET is a callable returning the scheduler.")
@import_option
@app_dir_option
@log_level_option
def scheduler(
    target: str, factory: bool, imports: tuple[str, ...], app_dir: str, log_level: str
) -> None:
    """Run TARGET, a "module:object" Scheduler with its periodic tasks registered.

    TARGET may also be a PeriodicTaskManager, or a periodic task config provider (an object
    with get_configs()), which then runs against the Redis of the connection flags.
    """
    from asynq.runner import load_scheduler, run_scheduler

    redis = get_state().connection.build()
    obj = load_scheduler(target, redis=redis, app_dir=app_dir, imports=imports, factory=factory)
    exit_with(run_scheduler(obj, log_level=log_level))


def exit_with(status: int) -> None:
    """Leave with the runner's exit status (it has logged the error of a non-zero one)."""
    if status:
        raise SystemExit(status)


@click.command("dash", short_help="Serve the web dashboard.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to bind.")
@click.option("--read-only", is_flag=True, help="Refuse every change (HTTP 405).")
@click.option("--root-path", default="", help="URL prefix when served behind a proxy.")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="Host name the dashboard answers to (repeatable; .example.com for a domain, * for "
    "any). Default: localhost names when bound to a loopback address, any otherwise.",
)
@click.option(
    "--refresh",
    type=INTERVAL,
    default="5s",
    show_default=True,
    help="Auto-refresh interval: seconds or a Go duration such as 8s (0: off).",
)
@log_level_option
def dash(
    host: str,
    port: int,
    read_only: bool,
    root_path: str,
    allowed_hosts: tuple[str, ...],
    refresh: timedelta,
    log_level: str,
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
        allowed_hosts=allowed_hosts or _loopback_names(host),
    )
    click.echo(f"asynq dashboard on http://{host}:{port}{root_path}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())


#: The names a browser on this machine uses for a loopback address.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _loopback_names(host: str) -> tuple[str, ...] | None:
    """Only the loopback names when ``host`` is a loopback address: a dashboard without a login
    on localhost must not answer a page that reached it through another name (DNS rebinding)."""
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return LOOPBACK_NAMES if loopback else None
