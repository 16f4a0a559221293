"""A Sentinel failover in the middle of a run: the primary is SIGKILLed while a producer
enqueues and a worker processes, both through a ``redis-sentinel://`` URL; the replica is
promoted, both follow it, and every task is done.

Redis replicates asynchronously, so a write the primary acknowledged just before dying may
never reach the replica; that is Redis' guarantee, not asynq's. The producer therefore pauses
while the replica catches up, right before the kill; the worker does not, and runs tasks
across the failover.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import asynq
from asynq import Task
from tests.deploy._sentinel import FailoverSet
from tests.deploy._support import Recorder, enqueue_until_known, serving, wait_drained
from tests.helpers.waiting import wait_until

BEFORE, AFTER = 60, 60


@pytest.fixture
def failover_set() -> Iterator[FailoverSet]:
    servers = FailoverSet()
    yield servers
    servers.stop()


async def test_tasks_flow_through_a_failover(failover_set: FailoverSet) -> None:
    url = failover_set.url
    recorder = Recorder(delay=0.3)
    first = [f"before-{i}" for i in range(BEFORE)]
    second = [f"after-{i}" for i in range(AFTER)]
    async with (
        asynq.AsyncClient(url) as client,
        serving(url, recorder, concurrency=10),
    ):
        for task_id in first:
            await enqueue_until_known(client, Task("work"), task_id)
        await wait_until(lambda: len(recorder.done) >= 10, within=30)
        assert len(recorder.done) < BEFORE, "the run was over before the failover"

        failover_set.sync_replica()
        old = failover_set.primary.port
        failover_set.primary.kill()
        # The producer goes on at once: its tries fail until the replica is promoted.
        for task_id in second:
            await enqueue_until_known(client, Task("work"), task_id)
        assert failover_set.master_port() == failover_set.replica.port != old

        await recorder.wait_for(first + second, within=60)
        await wait_drained(url, ["default"])
    assert set(first + second) <= recorder.done
    await asyncio.sleep(0)
