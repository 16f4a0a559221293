"""Connections a component keeps to itself, outside the client's pool: a subscribed or a
blocked connection cannot serve anything else meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.exceptions


async def open_own(redis_client: Any, key: str | None = None) -> Any:
    """A new redis-py connection, opened as the client is configured (address, TLS, auth,
    Sentinel, RESP version), not taken from its pool. On Redis Cluster it goes to the node
    that holds ``key``, or to any node without one."""
    if hasattr(redis_client, "get_default_node"):  # Redis Cluster
        await redis_client.initialize()
        node = (
            redis_client.get_default_node() if key is None else redis_client.get_node_from_key(key)
        )
        conn = node.connection_class(**node.connection_kwargs)
    else:
        conn = redis_client.connection_pool.make_connection()
    await conn.connect()
    return conn


async def close_own(conn: Any) -> None:
    """Close a connection from :func:`open_own`, quietly, even while being cancelled."""
    try:
        await asyncio.shield(conn.disconnect(nowait=True))
    except (OSError, redis.exceptions.RedisError, asyncio.CancelledError):
        pass
