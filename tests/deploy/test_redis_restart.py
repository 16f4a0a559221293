"""Redis restarted under a running worker, producer and scheduler (AOF on, so it keeps its data).

The server is SIGKILLed, not shut down: with ``appendfsync always`` every write Redis
acknowledged survives, and everything asynq had not yet had acknowledged must be retried by
asynq itself. Every enqueued task must finish; no queue may keep a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

import asynq
from asynq import Task
from tests.deploy._support import Recorder, serving, wait_drained
from tests.helpers.redis_procs import RedisProcess
from tests.helpers.waiting import wait_until


@pytest.fixture
def aof_redis() -> Iterator[RedisProcess]:
    server = RedisProcess(None, "--appendonly", "yes", "--appendfsync", "always")
    yield server
    server.stop()


async def test_worker_client_and_scheduler_survive_a_redis_restart(aof_redis) -> None:
    url = aof_redis.url
    recorder = Recorder(delay=0.01)
    client = asynq.AsyncClient(url)
    scheduler = asynq.Scheduler(url, heartbeat_interval=1)
    scheduler.register("@every 1s", Task("tick"))
    ids: list[str] = []
    raw = redis.Redis.from_url(url)
    try:
        async with serving(url, recorder):
            await scheduler.start()
            ids += [(await client.enqueue(Task("before"))).id for _ in range(100)]
            await wait_until(lambda: len(recorder.done) >= 20, within=30)

            aof_redis.kill()
            # While Redis is down an enqueue fails with a connection error, never hangs.
            with pytest.raises(asynq.BrokerConnectionError):
                await client.enqueue(Task("lost"))
            await asyncio.sleep(1.5)  # long enough for every component to notice
            aof_redis.restart()

            # The same client object works again: no new client is needed.
            ids += [(await client.enqueue(Task("after"))).id for _ in range(100)]
            await recorder.wait_for(ids)
            await wait_drained(url, ["default"])
            # The scheduler kept firing after the restart: a tick task is enqueued (and run).
            ticks_before = _ticks(raw)
            await wait_until(lambda: _ticks(raw) > ticks_before, within=30, interval=0.2)
            await scheduler.shutdown()
    finally:
        raw.close()
        await client.close()
    assert set(ids) <= recorder.done


def _ticks(raw: redis.Redis) -> int:
    """How many tasks the scheduler has enqueued (its history events, over every entry)."""
    total = 0
    for key in raw.scan_iter("asynq:scheduler_history:*"):
        total += raw.zcard(key)
    return total
