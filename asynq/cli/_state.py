"""What every command shares: the Redis connection from the global flags, and the Inspector."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import click

from asynq.connection import RedisConnection, redact
from asynq.errors import AsynqError
from asynq.inspector import Inspector

#: Go's default ``--cluster_addrs``.
DEFAULT_CLUSTER_ADDRS = ",".join(f"127.0.0.1:{p}" for p in range(7000, 7006))
#: Give up connecting after this long, so an unreachable host fails fast instead of hanging.
CONNECT_TIMEOUT = 5.0


class CliError(click.ClickException):
    """A failure reported as ``error: <message>`` on stderr, exit status 1."""

    def show(self, file: Any = None) -> None:
        """Print the message the way Go's tool does."""
        click.echo(f"error: {self.format_message()}", err=True)


@dataclass
class Connection:
    """The global connection flags (``--uri``, ``--db``, ``--cluster``, ...)."""

    uri: str = "127.0.0.1:6379"
    db: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    insecure: bool = False
    cluster: bool = False
    cluster_addrs: str = DEFAULT_CLUSTER_ADDRS

    def build(self) -> RedisConnection:
        """The :class:`~asynq.RedisConnection` the flags describe.

        Raises:
            CliError: the URI or an address is malformed.
        """
        options: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT}
        if self.insecure:
            options.update(ssl_cert_reqs="none", ssl_check_hostname=False)
        try:
            if self.cluster:
                addrs = ",".join(a.strip() for a in self.cluster_addrs.split(",") if a.strip())
                conn = RedisConnection.from_url(f"redis-cluster://{addrs}", **options)
            else:
                conn = RedisConnection.from_url(self.uri, **options)
        except AsynqError as exc:
            raise CliError(redact(str(exc), self.password)) from None
        changes: dict[str, Any] = {}
        if self.db is not None and not conn.cluster:
            changes["db"] = self.db
        if self.username:
            changes["username"] = self.username
        if self.password:
            changes["password"] = self.password
        if self.tls:
            changes["tls"] = True
        return dataclasses.replace(conn, **changes)

    @property
    def is_cluster(self) -> bool:
        """Whether the flags point at a Redis Cluster (``--cluster`` or a cluster URL)."""
        return self.cluster or self.uri.startswith("redis-cluster://")

    def describe(self) -> str:
        """Where the flags point, for error messages."""
        return redact(f"cluster {self.cluster_addrs}" if self.cluster else self.uri, self.password)


@dataclass
class CliState:
    """Per-invocation state kept on the click context (``ctx.obj``)."""

    connection: Connection = field(default_factory=Connection)
    _inspector: Inspector | None = None

    def inspector(self) -> Inspector:
        """The shared :class:`~asynq.inspector.Inspector`, opened on first use."""
        if self._inspector is None:
            self._inspector = Inspector(self.connection.build())
        return self._inspector

    def close(self) -> None:
        """Close the Inspector if one was opened."""
        if self._inspector is not None:
            self._inspector.close()
            self._inspector = None


def get_state() -> CliState:
    """The :class:`CliState` of the running command."""
    return click.get_current_context().find_object(CliState) or CliState()


def inspector() -> Inspector:
    """Shortcut for ``get_state().inspector()``."""
    return get_state().inspector()
