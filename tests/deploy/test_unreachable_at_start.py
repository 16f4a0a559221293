"""A worker and a scheduler started while Redis is not there yet: they log why, keep trying
without flooding the log, and start working as soon as Redis appears."""

from __future__ import annotations

import asyncio
import collections
import logging

import pytest
import redis

import asynq
from asynq import Task
from asynq.server import Config, Server
from tests.deploy._support import Recorder
from tests.helpers.redis_procs import RedisProcess, free_port
from tests.helpers.waiting import wait_until

#: How long the worker runs against nothing. With the default intervals each background part
#: tries a few times at most in this window; a part spinning on the error would log hundreds.
DOWN_FOR = 4.0
#: The most times one message may repeat in that window (the fetch loop and the forwarder are
#: the most frequent, once a second or so).
MOST_REPEATS = 8


async def test_worker_waits_for_redis_and_logs_clearly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="asynq")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    recorder = Recorder()
    server = Server(url, Config(shutdown_timeout=2))
    scheduler = asynq.Scheduler(url, heartbeat_interval=1)
    scheduler.register("@every 1s", Task("tick"))
    redis_server: RedisProcess | None = None
    try:
        await server.start(recorder)  # does not need Redis to start
        await scheduler.start()
        await asyncio.sleep(DOWN_FOR)

        problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert problems, "nothing said that Redis is unreachable"
        for record in problems:  # each one names the address it could not reach
            assert f"127.0.0.1:{port}" in record.getMessage(), record.getMessage()
        repeats = collections.Counter(r.getMessage() for r in problems)
        assert max(repeats.values()) <= MOST_REPEATS, repeats.most_common(3)
        assert server.in_flight == 0
        assert not any("Exiting" in r.getMessage() for r in caplog.records)  # still running

        redis_server = RedisProcess(port)
        async with asynq.AsyncClient(url) as client:
            info = await client.enqueue(Task("first"))
        await recorder.wait_for([info.id])  # the same server, never restarted, runs it
        raw = redis.Redis(port=port)
        try:  # the scheduler's ticks reach Redis too
            await wait_until(lambda: raw.llen("asynq:{default}:pending") or recorder.runs > 1, 30)
        finally:
            raw.close()
    finally:
        await scheduler.shutdown()
        await server.shutdown()
        if redis_server is not None:
            redis_server.stop()
