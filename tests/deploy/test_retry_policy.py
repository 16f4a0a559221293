"""The connection retry policy asynq sets (go-redis' defaults), and that a caller may replace it.

Its effect, an enqueue against a stopped Redis failing at once instead of after ~45 s of
redis-py's default retries, shows in ``test_redis_restart.py`` and ``test_enqueue_outcome.py``.
"""

from __future__ import annotations

import pytest
import redis.asyncio.retry
import redis.retry
from redis.backoff import NoBackoff

from asynq import RedisConnection

URLS = [
    "redis://127.0.0.1:1/0",
    "rediss://127.0.0.1:1/0",
    "redis-socket:///tmp/nothing.sock",
    "redis-sentinel://127.0.0.1:1?master=mymaster",
]


@pytest.mark.parametrize("url", URLS)
def test_three_retries_for_every_client(url: str) -> None:
    conn = RedisConnection.from_url(url)
    sync_client, async_client = conn.sync_client(), conn.async_client()
    try:
        assert sync_client.get_retry().get_retries() == 3
        assert async_client.get_retry().get_retries() == 3
    finally:
        sync_client.close()


def test_a_retry_option_replaces_it() -> None:
    mine = redis.retry.Retry(NoBackoff(), 7)
    client = RedisConnection.from_url("redis://127.0.0.1:1/0", retry=mine).sync_client()
    try:
        assert client.get_retry().get_retries() == 7
    finally:
        client.close()


def test_a_cluster_keeps_its_own() -> None:
    """A cluster client's retry also re-reads the slot map; asynq leaves it to redis-py."""
    kwargs = RedisConnection.from_url("redis-cluster://127.0.0.1:1")._kwargs(
        redis.asyncio.retry.Retry(NoBackoff(), 3)
    )
    assert "retry" not in kwargs
