"""How to reach Redis: :class:`RedisConnection` parses Go-style URIs and builds redis-py clients.

Supported URLs (Go's ``ParseRedisURI`` plus a cluster form):

- ``redis://[[user]:password@]host[:port][/db]``
- ``rediss://...``: the same over TLS
- ``redis-socket://[[user]:password@]/path/to/socket[?db=N]``
- ``redis-sentinel://[[user]:password@]h1:p1,h2:p2[/db][?master=name]``
- ``redis-cluster://[[user]:password@]h1:p1,h2:p2`` (or ``cluster=True`` with ``redis://`` or
  ``rediss://``). A Redis Cluster has only database 0, and is neither a socket nor behind
  Sentinel: a cluster URL with another database, or ``cluster=True`` with a
  ``redis-socket://`` or ``redis-sentinel://`` URL, raises :class:`~asynq.ValidationError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias, cast
from urllib.parse import parse_qs, unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.retry
import redis.sentinel
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import ClusterNode, RedisCluster

from asynq.errors import ValidationError

__all__ = [
    "REDACTED",
    "AsyncRedis",
    "AsyncRedisLike",
    "RedisConnection",
    "RedisLike",
    "SyncRedis",
    "redact",
]

#: What stands in for a password in anything asynq prints, logs or raises.
REDACTED = "***"

# The user-info of a URL: "scheme://" then anything up to the *last* "@" before the path. The
# password may itself hold "@" or ":", so everything after the first ":" is masked.
_URL_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/\s]*)@")
# A bare "user:password@host" (the CLI accepts URLs without a scheme) at the start of the text.
_BARE_USERINFO = re.compile(r"^(?P<head>)(?P<info>[^/\s:@]*:[^/\s]*)@")


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _password = match["info"].partition(":")
    return f"{match['head']}{user}{colon and ':' + REDACTED}@"


def _masked(name: str, value: Any) -> Any:
    """``value`` with every password in it (``password=``, ``sentinel_kwargs={"password":}``)
    replaced by :data:`REDACTED`."""
    if "password" in name and value is not None:
        return REDACTED
    if isinstance(value, dict):
        return {k: _masked(str(k), v) for k, v in value.items()}
    return value


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with the password of every URL in it, and each of ``secrets``, masked.

    The one place credentials are scrubbed: error messages, log lines, the CLI's and the
    dashboard's output and ``repr(RedisConnection)`` all pass through it.
    """
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _BARE_USERINFO.sub(_mask_userinfo, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


#: A blocking redis-py client this library can drive.
SyncRedis: TypeAlias = redis.Redis | RedisCluster
#: An asyncio redis-py client this library can drive.
AsyncRedis: TypeAlias = redis.asyncio.Redis | AsyncRedisCluster

_SCHEMES = ("redis", "rediss", "redis-socket", "redis-sentinel", "redis-cluster")

#: redis-py arguments that :class:`RedisConnection` itself passes: not allowed as options.
_FROM_THE_URL = frozenset({"host", "port", "db", "unix_socket_path", "startup_nodes"})


# How often, and after how long, a command that failed for want of a connection is tried again:
# go-redis's defaults (3 retries, backoff from 8 ms doubling to 512 ms). redis-py's own (10
# retries up to 1 s each, applied once to the connect and again to the command) keep a caller
# blocked for about 45 s when Redis is down, where it should hear of it within seconds; workers
# and schedulers retry on their own schedule anyway. ``retry=`` among the options overrides it.
_RETRIES = 3
_BACKOFF_BASE = 0.008
_BACKOFF_CAP = 0.512


def _backoff() -> ExponentialWithJitterBackoff:
    return ExponentialWithJitterBackoff(base=_BACKOFF_BASE, cap=_BACKOFF_CAP)


def _hostport(part: str, default_port: int) -> tuple[str, int]:
    if part.startswith("["):  # an IPv6 literal: [::1] or [::1]:6380
        host, _, rest = part[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest
    elif ":" in part:
        host, _, port = part.rpartition(":")
    else:
        host, port = part, ""
    try:
        number = int(port) if port else default_port
    except ValueError:
        number = -1
    if not host or not 0 < number < 65536:
        raise ValidationError(f"invalid redis address {part!r}")
    return host, number


def _hostports(netloc_hosts: str, default_port: int = 6379) -> list[tuple[str, int]]:
    result = [
        _hostport(part.strip(), default_port) for part in netloc_hosts.split(",") if part.strip()
    ]
    if not result:
        raise ValidationError("redis URL has no host")
    return result


def _db_number(text: str) -> int:
    if not text.isdigit():  # rejects signs and blanks: a database number is 0 or more
        raise ValueError(text)
    return int(text)


class _SentinelPool(redis.sentinel.SentinelConnectionPool):
    """The master's pool; closing it also closes the connections to the sentinels.

    Otherwise those connections outlive the client that asked the sentinels where the master is.
    """

    def disconnect(self, inuse_connections: bool = True) -> None:
        super().disconnect(inuse_connections)
        for sentinel in self.sentinel_manager.sentinels:
            sentinel.connection_pool.disconnect()


class _AsyncSentinelPool(redis.asyncio.sentinel.SentinelConnectionPool):
    """The asyncio twin of :class:`_SentinelPool`."""

    async def disconnect(self, inuse_connections: bool = True) -> None:
        await super().disconnect(inuse_connections)
        for sentinel in self.sentinel_manager.sentinels:
            await sentinel.connection_pool.disconnect()


@dataclass(frozen=True, kw_only=True)
class RedisConnection:
    """Everything needed to open sync and async connections to one Redis deployment.

    Build it with :meth:`from_url`, or directly for a host/port. ``cluster=True`` talks to a
    Redis Cluster through ``addrs``; ``sentinel_master`` enables Sentinel failover.
    """

    addrs: tuple[tuple[str, int], ...] = (("127.0.0.1", 6379),)
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    unix_socket: str | None = None
    sentinel_master: str | None = None
    cluster: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        taken = sorted(_FROM_THE_URL.intersection(self.options))
        if taken:
            # redis-py would get them twice (a TypeError) or, on a cluster, refuse them late.
            raise ValidationError(
                f"the option {taken[0]!r} is set by the URL (or the address fields), "
                "not by the extra options"
            )
        # A cluster client would quietly drop these (redis-py's RedisCluster has no database,
        # socket or sentinel): better a clear error now than keys in the wrong place later.
        if not self.cluster:
            return
        if self.sentinel_master is not None:
            raise ValidationError(
                "a Redis Cluster cannot also be reached through Sentinel: use either "
                "a redis-sentinel:// URL or cluster mode, not both"
            )
        if self.unix_socket is not None:
            raise ValidationError(
                "a Redis Cluster is reached through host:port seeds, not a unix socket"
            )
        if self.db != 0:
            raise ValidationError(
                f"a Redis Cluster has only database 0, not {self.db}: "
                "drop the database number from the URL"
            )

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = _masked(f.name, getattr(self, f.name))
            shown.append(f"{f.name}={value!r}")
        return redact(f"RedisConnection({', '.join(shown)})", self.password)

    @classmethod
    def from_url(cls, url: str, *, cluster: bool = False, **options: Any) -> RedisConnection:
        """Parse a Redis URL (see the module docstring); ``options`` go to redis-py's client.

        Raises:
            ValidationError: for an unsupported scheme, a malformed URL, a cluster it cannot
                be (see the module docstring), or an option the URL sets (``db``, ``host``...).
        """
        if "://" not in url:
            url = "redis://" + url  # Go's CLI accepts a bare host:port
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES:
            raise ValidationError(
                f"unsupported redis URL scheme {parts.scheme!r}; use one of {', '.join(_SCHEMES)}"
            )
        query = parse_qs(parts.query)
        userinfo, _, hosts = parts.netloc.rpartition("@")
        username, password = None, None
        if userinfo:
            user, _, pw = userinfo.partition(":")
            username, password = unquote(user) or None, unquote(pw) or None
        db = 0
        # Like Go, the database is the first segment of the path.
        path = parts.path.strip("/").split("/")[0]
        try:
            if parts.scheme != "redis-socket" and path:
                db = _db_number(path)
            if "db" in query:
                db = _db_number(query["db"][0])
        except ValueError as exc:
            raise ValidationError(f"invalid database number in redis URL {redact(url)!r}") from exc
        common: dict[str, Any] = {"db": db, "username": username, "password": password}
        # ``cluster`` goes to every form, so that a contradiction is refused, not ignored.
        common["cluster"] = cluster or parts.scheme == "redis-cluster"
        if parts.scheme == "redis-socket":
            if not parts.path:
                raise ValidationError("redis-socket URL needs a socket path")
            return cls(unix_socket=parts.path, options=options, **common)
        if parts.scheme == "redis-sentinel":
            master = query.get("master", ["mymaster"])[0]
            return cls(
                addrs=tuple(_hostports(hosts, 26379)),
                sentinel_master=master,
                options=options,
                **common,
            )
        return cls(
            addrs=tuple(_hostports(hosts)),
            tls=parts.scheme == "rediss",
            options=options,
            **common,
        )

    def _kwargs(self, retry: Any = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"username": self.username, "password": self.password}
        if self.tls:
            kwargs["ssl"] = True
        if retry is not None and not self.cluster:  # a cluster keeps redis-py's (it re-maps slots)
            kwargs["retry"] = retry
        kwargs.update(self.options)
        return kwargs

    def sync_client(self) -> SyncRedis:
        """A new blocking redis-py client (``Redis`` or ``RedisCluster``)."""
        kwargs = self._kwargs(redis.retry.Retry(_backoff(), _RETRIES))
        if self.cluster:
            nodes = [cast(Any, ClusterNode)(h, p) for h, p in self.addrs]
            return RedisCluster(startup_nodes=nodes, **kwargs)
        if self.unix_socket:
            return redis.Redis(unix_socket_path=self.unix_socket, db=self.db, **kwargs)
        if self.sentinel_master:
            sentinel = cast(Any, redis.Sentinel)(list(self.addrs), **kwargs)
            return cast(
                SyncRedis,
                sentinel.master_for(
                    self.sentinel_master, db=self.db, connection_pool_class=_SentinelPool
                ),
            )
        host, port = self.addrs[0]
        return redis.Redis(host=host, port=port, db=self.db, **kwargs)

    def async_client(self) -> AsyncRedis:
        """A new asyncio redis-py client (``Redis`` or ``RedisCluster``)."""
        kwargs = self._kwargs(redis.asyncio.retry.Retry(_backoff(), _RETRIES))
        if self.cluster:
            from redis.asyncio.cluster import ClusterNode as AsyncClusterNode

            nodes = [AsyncClusterNode(h, p) for h, p in self.addrs]
            return AsyncRedisCluster(startup_nodes=nodes, **kwargs)
        if self.unix_socket:
            return redis.asyncio.Redis(unix_socket_path=self.unix_socket, db=self.db, **kwargs)
        if self.sentinel_master:
            sentinel = cast(Any, redis.asyncio.Sentinel)(list(self.addrs), **kwargs)
            return cast(
                AsyncRedis,
                sentinel.master_for(
                    self.sentinel_master, db=self.db, connection_pool_class=_AsyncSentinelPool
                ),
            )
        host, port = self.addrs[0]
        return redis.asyncio.Redis(host=host, port=port, db=self.db, **kwargs)


#: What the blocking classes (:class:`~asynq.Client`, :class:`~asynq.Inspector`) take as
#: ``redis``: a Redis URL (see :meth:`RedisConnection.from_url`), a :class:`RedisConnection`, or
#: an existing blocking redis-py client, which stays the caller's to close. ``None`` (the
#: default everywhere) means ``$ASYNQ_REDIS_URL``, else ``redis://127.0.0.1:6379/0``.
RedisLike: TypeAlias = str | RedisConnection | redis.Redis | RedisCluster
#: What the asyncio classes (:class:`~asynq.AsyncClient`, :class:`~asynq.AsyncInspector`,
#: :class:`~asynq.Server`, :class:`~asynq.Scheduler`, the dashboard...) take as ``redis``: the
#: same as :data:`RedisLike`, with an asyncio redis-py client in place of a blocking one.
AsyncRedisLike: TypeAlias = str | RedisConnection | redis.asyncio.Redis | AsyncRedisCluster
