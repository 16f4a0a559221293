"""Idle workers pick up tasks Go enqueued (Go publishes no wake-up) without waiting for a poll,
and the blocking wait leaves Go's pending lists exactly as Go wrote them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asynq
from asynq import Config, Server
from asynq._base import keys
from asynq.server._active_task import ActiveTask
from tests.helpers import gopeer
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST
from tests.server.gohelpers import go_enqueue, go_events, wait_started

pytestmark = pytest.mark.interop

#: Far longer than any wait below: a task found in time was not found by the poll.
NO_POLL = {"task_check_interval": 120.0}


def blmove_calls(r: Any) -> int:
    stats = r.info("commandstats").get("cmdstat_blmove")
    return 0 if stats is None else int(stats["calls"])


async def armed(server: Server, *queues: str) -> None:
    assert server._parts is not None
    waiter = server._parts.waiter
    await wait_until(lambda: set(queues) <= waiter.armed)


class Recorder:
    def __init__(self) -> None:
        self.ran: list[str] = []

    async def __call__(self, task: ActiveTask) -> None:
        self.ran.append(task.id)


async def test_idle_worker_runs_a_go_enqueued_task_before_any_poll(start_server, redis_url, r):
    ran = Recorder()
    server = await start_server(ran, **NO_POLL)
    await armed(server, "default")
    [task_id] = go_enqueue(redis_url, [{"type": "go:task", "payload": b"x"}])
    await wait_until(lambda: ran.ran == [task_id], within=10)
    # Done as Go's own worker leaves it: gone from pending and active, counted as processed.
    await wait_until(lambda: not r.exists(keys.active_key("default")))
    assert not r.exists(keys.pending_key("default"))
    assert not r.exists(keys.task_key("default", task_id))
    assert r.zcard(keys.lease_key("default")) == 0


async def test_the_wait_leaves_a_paused_queue_as_go_wrote_it_without_spinning(
    start_server, redis_url, r
):
    async with asynq.AsyncInspector(redis_url) as inspector:
        # The queue must exist to be paused; a first task makes it.
        go_enqueue(redis_url, [{"type": "go:seed", "options": {"queue": "held"}}])
        await inspector.pause_queue("held")
    ran = Recorder()
    server = await start_server(ran, queues={"held": 1}, task_check_interval=0.5)
    await armed(server, "held")
    ids = go_enqueue(
        redis_url, [{"type": "go:task", "options": {"queue": "held"}} for _ in range(3)]
    )
    before = blmove_calls(r)
    await asyncio.sleep(3)
    # Woken, found the queue paused, then waited at the poll's pace: a few calls, not a loop.
    assert blmove_calls(r) - before <= 10
    assert ran.ran == []
    pending = [m.decode() for m in r.lrange(keys.pending_key("held"), 0, -1)]
    assert pending[:3] == list(reversed(ids))  # Go pushes at the head; order unchanged
    assert r.type(keys.pending_key("held")) == b"list"
    async with asynq.AsyncInspector(redis_url) as inspector:
        await inspector.unpause_queue("held")
    await wait_until(lambda: len(ran.ran) == 4, within=10)
    assert ran.ran[1:] == ids  # oldest first, as Go's dequeue takes them


async def test_each_queue_is_watched(start_server, redis_url):
    ran = Recorder()
    queues = {"critical": 6, "default": 3, "low": 1}
    server = await start_server(ran, queues=queues, strict_priority=True, **NO_POLL)
    for queue in ("low", "critical", "default"):
        await armed(server, *queues)
        [task_id] = go_enqueue(redis_url, [{"type": "go:task", "options": {"queue": queue}}])
        await wait_until(lambda task_id=task_id: task_id in ran.ran, within=10)


async def test_a_lost_wait_connection_is_reopened(start_server, redis_url, r):
    ran = Recorder()
    server = await start_server(ran, **NO_POLL)
    await armed(server, "default")
    r.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    await asyncio.sleep(0.5)
    await armed(server, "default")
    [task_id] = go_enqueue(redis_url, [{"type": "go:task"}])
    await wait_until(lambda: ran.ran == [task_id], within=10)


@pytest.mark.cluster
async def test_go_enqueued_tasks_on_redis_cluster(cluster):
    ran = Recorder()
    queues = {"alpha": 1, "beta": 1, "gamma": 1}
    server = Server(cluster.url, Config(**{**FAST, **NO_POLL, "queues": queues}))
    await server.start(ran)
    try:
        await armed(server, *queues)
        addrs = ",".join(f"{h}:{p}" for h, p in cluster.addrs)
        specs = [{"type": "go:task", "options": {"queue": q}} for q in queues]
        results = gopeer.run_go_json("peer_enqueue", "-cluster", addrs, input=specs)
        ids = [res["info"]["id"] for res in results]
        await wait_until(lambda: sorted(ran.ran) == sorted(ids), within=10)
        rc = asynq.RedisConnection.from_url(cluster.url).sync_client()
        for q in queues:
            assert not rc.exists(keys.pending_key(q))
    finally:
        await server.shutdown()


async def test_go_workers_dequeue_beside_the_wait(start_server, go_server, redis_url, r):
    # An idle Go server polls (and dequeues) the list the Python waiter blocks on: each task
    # runs exactly once, and the lists end empty.
    go = go_server("-concurrency", "2")
    await wait_started(go)
    ran = Recorder()
    server = await start_server(ran, task_check_interval=0.05)
    ids: list[str] = []
    for _ in range(20):
        await armed(server, "default")
        ids += go_enqueue(redis_url, [{"type": "go:task"}])
        await asyncio.sleep(0.05)

    def finished() -> bool:
        return len(ran.ran) + len(go_events(go)) >= len(ids)

    await wait_until(finished, within=30)
    go_ran = [e["id"] for e in go_events(go)]
    assert sorted(ran.ran + go_ran) == sorted(ids)  # none lost, none run twice
    assert r.llen(keys.pending_key("default")) == 0 and r.llen(keys.active_key("default")) == 0
