"""The run behind the Sentinel failover tests: a failover in the middle of a run, while a
producer enqueues and a worker processes, both through a ``redis-sentinel://`` URL. The
primary is SIGKILLed, crashes (``DEBUG SEGFAULT``), or is demoted by an operator's
``SENTINEL FAILOVER``; the replica is promoted, both follow it, and every task is done.

Redis replicates asynchronously, so a write the primary acknowledged just before dying may
never reach the replica; that is Redis' guarantee, not asynq's. The producer therefore pauses
while the replica catches up, right before the kill, and resumes once a Sentinel names the
new primary; the worker does not pause, and runs tasks across the failover. A write of the
worker's that is lost that way (a task's completion) leaves the task active until its lease
expires; the test runs the recoverer every second, with leases of 5 s and a skew grace of 2 s,
so that it comes back within the test's time (Go's pace: once a minute, a 30 s lease, 30 s
grace).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

import asynq
from asynq import Task
from asynq._broker.ops import server_ops
from asynq.server import _heartbeat, _recoverer
from tests.deploy._sentinel import MASTER, FailoverSet
from tests.deploy._support import Recorder, enqueue_until_known, serving, wait_drained
from tests.helpers.waiting import wait_until

BEFORE, AFTER = 60, 60


def sigkill(servers: FailoverSet) -> None:
    """SIGKILL the primary."""
    servers.primary.kill()


def segfault(servers: FailoverSet) -> None:
    """Crash the primary with ``DEBUG SEGFAULT`` (it writes a crash report first)."""
    primary = redis.Redis(port=servers.primary.port)
    try:
        primary.execute_command("DEBUG", "SEGFAULT")
    except redis.ConnectionError:
        pass  # the server died before it could answer
    finally:
        primary.close()
    servers.primary.proc.wait(30)


def sentinel_failover(servers: FailoverSet) -> None:
    """An operator's ``SENTINEL FAILOVER``: the primary is demoted to a replica, alive."""
    sentinel = redis.Redis(port=servers.ports[0])
    try:
        sentinel.execute_command("SENTINEL", "FAILOVER", MASTER)
    finally:
        sentinel.close()


async def tasks_flow_through(
    monkeypatch: pytest.MonkeyPatch, failover_set: FailoverSet, fail: Callable[[FailoverSet], None]
) -> None:
    """Enqueue and run tasks while ``fail`` makes the Sentinels fail over; check none is lost."""
    monkeypatch.setattr(server_ops, "LEASE_DURATION", 5.0)
    monkeypatch.setattr(_heartbeat, "HEARTBEAT_INTERVAL", 0.5)
    monkeypatch.setattr(_recoverer, "RECOVER_INTERVAL", 1.0)
    # Room for clock skew between hosts; every process here shares one clock.
    monkeypatch.setattr(_recoverer, "LEASE_EXPIRED_GRACE", 2.0)
    url = failover_set.url
    recorder = Recorder(delay=0.3)
    first = [f"before-{i}" for i in range(BEFORE)]
    second = [f"after-{i}" for i in range(AFTER)]
    async with (
        asynq.AsyncClient(url) as client,
        serving(url, recorder, concurrency=10, retry_delay_func=lambda n, e, t: 0.5),
    ):
        for task_id in first:
            await enqueue_until_known(client, Task("work"), task_id)
        await wait_until(lambda: len(recorder.done) >= 10, within=30)
        assert len(recorder.done) < BEFORE, "the run was over before the failover"

        failover_set.sync_replica()
        old = failover_set.primary.port
        fail(failover_set)
        await wait_until(lambda: failover_set.master_port() == failover_set.replica.port, 30)
        assert failover_set.replica.port != old
        for task_id in second:
            await enqueue_until_known(client, Task("work"), task_id)

        await recorder.wait_for(first + second, within=60)
        await wait_drained(url, ["default"])
    assert set(first + second) <= recorder.done
