"""Burst mode when Redis goes away in the middle of the run: it waits for Redis as any worker
does, and never takes queues it could not read for drained ones. Back in time, the run goes on
and drains; gone for good, the server shuts down and raises, naming the address."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator

import pytest

import asynq
from asynq import Task
from asynq.server import Config, Server
from asynq.server import _burst as burst
from tests.helpers.redis_procs import RedisProcess
from tests.helpers.waiting import wait_until

#: Small intervals so the fetch loop polls often while Redis is away.
FAST = Config(concurrency=2, task_check_interval=0.1, shutdown_timeout=1)


@pytest.fixture
def aof_redis() -> Iterator[RedisProcess]:
    """A Redis that keeps every acknowledged write across a SIGKILL and a restart."""
    server = RedisProcess(None, "--appendonly", "yes", "--appendfsync", "always")
    yield server
    server.stop()


def _said(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in record.getMessage() for record in caplog.records)


async def test_redis_gone_for_good_fails_the_burst_run_instead_of_draining(
    aof_redis: RedisProcess, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="asynq")
    monkeypatch.setattr(burst, "GIVE_UP_AFTER", 2.0)  # the default 30 s, shortened
    ran: list[str] = []

    async def kill_redis(task: asynq.ActiveTask) -> None:
        ran.append(task.type)
        await asyncio.to_thread(aof_redis.kill)

    async with asynq.AsyncClient(aof_redis.url) as client:
        await client.enqueue(Task("kill"))
    server = Server(aof_redis.url, FAST)
    with pytest.raises(asynq.BrokerConnectionError) as raised:
        await server.serve(kill_redis, burst=True)

    assert ran == ["kill"]
    message = str(raised.value)
    assert "burst mode gave up" in message
    assert f"127.0.0.1:{aof_redis.port}/0" in message  # the address it could not read from
    assert not _said(caplog, "the queues are drained")
    assert _said(caplog, "Exiting")  # shut down gracefully before raising
    assert server.state == "closed"


async def test_redis_back_in_time_lets_the_burst_run_go_on_and_drain(
    aof_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="asynq")
    ran: list[str] = []

    async def outage(task: asynq.ActiveTask) -> None:
        ran.append(task.type)
        if task.type == "outage":
            # Pending while this runs (one slot: nothing takes it), still pending after the
            # restart: the queue was never empty, whatever the failed reads in between said.
            async with asynq.AsyncClient(aof_redis.url) as client:
                await client.enqueue(Task("follow-up"))
            await asyncio.to_thread(aof_redis.kill)

    async with asynq.AsyncClient(aof_redis.url) as client:
        await client.enqueue(Task("outage"))
    server = Server(aof_redis.url, dataclasses.replace(FAST, concurrency=1))
    serving = asyncio.create_task(server.serve(outage, burst=True))
    await wait_until(lambda: _said(caplog, "Dequeue error") or serving.done(), within=30)
    await asyncio.sleep(1)  # about ten more failed polls, none of them taken for drained
    assert not serving.done(), "the run ended while Redis was down"
    await asyncio.to_thread(aof_redis.restart)
    await serving

    assert ran == ["outage", "follow-up"]
    assert _said(caplog, "the queues are drained")
    with asynq.Inspector(aof_redis.url) as inspector:
        info = inspector.get_queue_info("default")
    assert (info.pending, info.active) == (0, 0)
