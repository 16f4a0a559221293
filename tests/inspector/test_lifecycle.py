"""Construction, closing and the twin APIs of Inspector and AsyncInspector."""

from __future__ import annotations

import inspect

import redis
import redis.asyncio

import asynq
from asynq.inspector import AsyncInspector, Inspector
from tests.helpers import seed


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_sync_and_async_inspectors_have_the_same_methods():
    sync, async_ = public_methods(Inspector), public_methods(AsyncInspector)
    assert sync.keys() == async_.keys()
    assert len(sync) == 41  # 40 calls and close()
    for name, signature in sync.items():
        assert str(signature) == str(async_[name]), name
        assert inspect.iscoroutinefunction(getattr(AsyncInspector, name)), name
        assert getattr(Inspector, name).__doc__, name
        assert getattr(AsyncInspector, name).__doc__, name


def test_sync_context_manager_and_connection_forms(redis_url, r):
    seed.register(r, "q")
    with Inspector(redis_url) as insp:
        assert insp.queues() == ["q"]
    with Inspector(asynq.RedisConnection.from_url(redis_url)) as insp:
        assert insp.queues() == ["q"]
    shared = redis.Redis.from_url(redis_url)
    with Inspector(shared) as insp:
        assert insp.queues() == ["q"]
    assert shared.ping()  # a client passed in stays open
    shared.close()


async def test_async_context_manager_and_shared_client(redis_url, r):
    seed.register(r, "q")
    async with AsyncInspector(redis_url) as insp:
        assert await insp.queues() == ["q"]
    shared = redis.asyncio.Redis.from_url(redis_url)
    async with AsyncInspector(shared) as insp:
        assert await insp.get_queue_info("q") is not None
    assert await shared.ping()
    await shared.aclose()
