"""Turns what a public constructor was given as ``redis`` into a redis-py client.

Every class that talks to Redis accepts the same things (:data:`~asynq.connection.RedisLike` or
:data:`~asynq.connection.AsyncRedisLike`); this is the one place that tells them apart, and
that decides who closes the client: this library when it opened it, the caller otherwise.
"""

from __future__ import annotations

import os

import redis
import redis.asyncio
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from asynq.connection import AsyncRedis, AsyncRedisLike, RedisConnection, RedisLike, SyncRedis
from asynq.errors import ValidationError

#: Where to connect when the caller names nothing (Go's CLI default address).
DEFAULT_URL = "redis://127.0.0.1:6379/0"


def resolve_sync(conn: RedisLike | None) -> tuple[SyncRedis, bool]:
    """Return a blocking client for ``conn`` and whether this library owns (closes) it."""
    if conn is None or isinstance(conn, str):
        conn = RedisConnection.from_url(conn or default_url())
    if isinstance(conn, RedisConnection):
        return conn.sync_client(), True
    if isinstance(conn, redis.Redis | RedisCluster):
        return conn, False
    raise ValidationError(f"expected a Redis URL, RedisConnection or redis.Redis, not {conn!r}")


def resolve_async(conn: AsyncRedisLike | None) -> tuple[AsyncRedis, bool]:
    """Return an asyncio client for ``conn`` and whether this library owns (closes) it."""
    if conn is None or isinstance(conn, str):
        conn = RedisConnection.from_url(conn or default_url())
    if isinstance(conn, RedisConnection):
        return conn.async_client(), True
    if isinstance(conn, redis.asyncio.Redis | AsyncRedisCluster):
        return conn, False
    raise ValidationError(
        f"expected a Redis URL, RedisConnection or redis.asyncio.Redis, not {conn!r}"
    )


def default_url() -> str:
    """``$ASYNQ_REDIS_URL``, else :data:`DEFAULT_URL`."""
    return os.environ.get("ASYNQ_REDIS_URL", DEFAULT_URL)


def is_cluster(client: SyncRedis | AsyncRedis) -> bool:
    """Whether ``client`` talks to a Redis Cluster."""
    return isinstance(client, RedisCluster | AsyncRedisCluster)


def describe_address(client: SyncRedis | AsyncRedis) -> str:
    """Where ``client`` connects, for error messages (never with a password): ``host:port/db``,
    a unix socket, a Sentinel master's name or a cluster's seed nodes."""
    if isinstance(client, RedisCluster | AsyncRedisCluster):
        seeds = ",".join(client.nodes_manager.startup_nodes)  # keyed "host:port"
        return f"cluster {seeds}"
    pool = client.connection_pool
    master = getattr(pool, "service_name", None)  # a Sentinel-managed pool
    kwargs = pool.connection_kwargs
    db = kwargs.get("db", 0)
    if master is not None:
        return f"Sentinel master {master!r}/{db}"
    if kwargs.get("path"):
        return f"unix socket {kwargs['path']}?db={db}"
    host = str(kwargs.get("host", "localhost"))
    return f"{f'[{host}]' if ':' in host else host}:{kwargs.get('port', 6379)}/{db}"
