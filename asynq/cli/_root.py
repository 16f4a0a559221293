"""The root ``asynq`` command: global connection flags, error reporting and sub-command groups."""

from __future__ import annotations

from typing import Any

import click
import redis

from asynq._version import GO_ASYNQ_VERSION, __version__
from asynq.cli._base import AliasedGroup
from asynq.cli._state import DEFAULT_CLUSTER_ADDRS, CliError, CliState, Connection
from asynq.connection import redact
from asynq.errors import AsynqError, BrokerConnectionError, BrokerReplyError


class RootGroup(AliasedGroup):
    """Turns asynq and Redis errors into ``error: ...`` and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the sub-command and translate errors."""
        try:
            return super().invoke(ctx)
        except (BrokerConnectionError, redis.ConnectionError, redis.TimeoutError) as exc:
            state = ctx.find_object(CliState)
            where = state.connection.describe() if state else "redis"
            raise _error(ctx, f"cannot talk to Redis at {where}: {exc}") from None
        except (BrokerReplyError, redis.RedisError) as exc:
            # Redis answered, but with an error (WRONGTYPE: a key holds damaged data...).
            raise _error(ctx, f"Redis answered with an error: {exc}") from None
        except AsynqError as exc:
            raise _error(ctx, str(exc)) from None


def _error(ctx: click.Context, message: str) -> CliError:
    """``message`` as a CLI error, with the password of the connection flags masked."""
    state = ctx.find_object(CliState)
    return CliError(redact(message, state.connection.password if state else None))


@click.group(
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Use 'asynq <command> --help' for more information about a command.",
)
@click.option(
    "-u",
    "--uri",
    default="127.0.0.1:6379",
    show_default=True,
    envvar="ASYNQ_REDIS_URL",
    help="Redis server: host:port or a URL (redis://, rediss://, redis-socket://, "
    "redis-sentinel://, redis-cluster://). Env: ASYNQ_REDIS_URL.",
)
@click.option("-n", "--db", type=int, default=None, help="Redis database number [default: 0].")
@click.option("-U", "--username", default=None, help="Username for Redis ACL authentication.")
@click.option("-p", "--password", default=None, help="Password for the Redis server.")
@click.option("--tls", is_flag=True, help="Connect over TLS.")
@click.option("--insecure", is_flag=True, help="With TLS, do not verify the server certificate.")
@click.option("--cluster", is_flag=True, help="Connect to a Redis Cluster (see --cluster-addrs).")
@click.option(
    "--cluster-addrs",
    "--cluster_addrs",
    "cluster_addrs",
    default=DEFAULT_CLUSTER_ADDRS,
    show_default=True,
    help="Comma-separated cluster node addresses.",
)
@click.version_option(
    __version__, "--version", message=f"asynq version %(version)s (Go asynq {GO_ASYNQ_VERSION})"
)
@click.pass_context
def cli(
    ctx: click.Context,
    uri: str,
    db: int | None,
    username: str | None,
    password: str | None,
    tls: bool,
    insecure: bool,
    cluster: bool,
    cluster_addrs: str,
) -> None:
    """Inspect and manage asynq queues and tasks, run workers and the web dashboard.

    Works with Go's asynq v0.26.0 and with this library: both share the same Redis data.
    """
    state = CliState(Connection(uri, db, username, password, tls, insecure, cluster, cluster_addrs))
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.command("version")
def version() -> None:
    """Print the version."""
    click.echo(f"asynq version {__version__} (Go asynq {GO_ASYNQ_VERSION})")


def _register() -> None:
    from asynq.cli import _cron as cron
    from asynq.cli import _group_cmd as group_cmd
    from asynq.cli import _queue as queue
    from asynq.cli import _run as run
    from asynq.cli import _server as server
    from asynq.cli import _stats as stats
    from asynq.cli import _task as task

    cli.add_command(stats.stats)
    cli.add_command(queue.queue)
    cli.add_command(task.task)
    cli.add_command(group_cmd.group_cmd)
    cli.add_command(server.server)
    cli.add_command(cron.cron)
    cli.add_command(run.worker)
    cli.add_command(run.scheduler)
    cli.add_command(run.dash)


_register()
