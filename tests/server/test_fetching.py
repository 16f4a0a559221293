"""How the fetch loop uses its slots: no prefetch, wake-ups by publish, Redis Cluster."""

from __future__ import annotations

import asyncio

import pytest

import asynq
from asynq._base import keys
from asynq.server import ActiveTask, Config, Server
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST

Q = "default"


async def test_fills_every_slot_and_never_takes_more(start_server, client, r):
    concurrency = 3
    release = asyncio.Event()
    running: list[str] = []
    active_seen: list[int] = []

    async def handler(task: ActiveTask) -> None:
        running.append(task.id)
        active_seen.append(r.llen(keys.active_key(Q)))
        await release.wait()

    ids = [client.enqueue(asynq.Task("t", b"%d" % i)).id for i in range(10)]
    server = await start_server(handler, concurrency=concurrency)
    await wait_until(lambda: len(running) == concurrency)
    await asyncio.sleep(0.3)  # several poll intervals: still nothing more is taken
    assert server.in_flight == concurrency
    assert r.llen(keys.active_key(Q)) == concurrency
    assert r.llen(keys.pending_key(Q)) == 10 - concurrency
    assert running == ids[:concurrency]  # FIFO
    release.set()
    await wait_until(lambda: len(running) == 10)
    assert max(active_seen) <= concurrency


async def test_idle_worker_wakes_on_publish_not_poll(start_server, client, r):
    """With a 60 s poll interval only the enqueue script's PUBLISH can explain a pickup."""
    done: list[str] = []
    await start_server(lambda task: done.append(task.id), task_check_interval=60)
    await asyncio.sleep(0.1)  # the first (empty) poll is over; the worker is idle
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: done == [info.id], within=5)
    # Forwarded (scheduled) tasks publish too.
    later = client.enqueue(asynq.Task("t", b""), process_in=0.5)
    await wait_until(lambda: done == [info.id, later.id], within=5)


async def test_tasks_without_publish_are_found_by_polling(start_server, r):
    done: list[str] = []
    await start_server(lambda task: done.append(task.id), task_check_interval=0.2)
    await asyncio.sleep(0.1)
    # A bare LPUSH, as Go's enqueue does: no notification.
    client = asynq.Client(r)
    info = client.enqueue(asynq.Task("t", b""), process_in=3600)
    r.zrem(keys.scheduled_key(Q), info.id)
    r.hset(keys.task_key(Q, info.id), "state", "pending")
    r.lpush(keys.pending_key(Q), info.id)
    await wait_until(lambda: done == [info.id], within=5)


@pytest.mark.cluster
async def test_server_on_redis_cluster(cluster):
    done: list[tuple[str, str]] = []
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        if task.type == "block":
            started.set()
            await asyncio.sleep(30)
        if task.type == "fail":
            raise ValueError("cluster failure")
        done.append((task.queue, task.type))

    server = Server(
        cluster.url,
        Config(**{**FAST, "queues": {"alpha": 1, "beta": 1, "gamma": 1}}),
    )
    await server.start(handler)
    rc = asynq.RedisConnection.from_url(cluster.url).sync_client()
    try:
        with asynq.Client(cluster.url) as client:
            for q in ("alpha", "beta", "gamma"):
                client.enqueue(asynq.Task("ok", b""), queue=q)
            failing = client.enqueue(asynq.Task("fail", b""), queue="beta", unique=60)
            blocking = client.enqueue(asynq.Task("block", b""), queue="gamma")
        await wait_until(lambda: len(done) == 3)
        assert sorted(done) == [("alpha", "ok"), ("beta", "ok"), ("gamma", "ok")]
        await wait_until(lambda: rc.hget(keys.task_key("beta", failing.id), "state") == b"retry")
        await asyncio.wait_for(started.wait(), 5)
        await wait_until(lambda: server.in_flight == 1)  # only the blocking task is left
        await server._parts.heartbeat.beat()
        assert rc.zcard(keys.ALL_SERVERS) == 1
        ident = server.identity
        assert rc.hlen(keys.workers_key(ident.host, ident.pid, ident.server_id)) == 1
        rc.publish(keys.CANCEL_CHANNEL, blocking.id)
        await wait_until(lambda: rc.hget(keys.task_key("gamma", blocking.id), "state") == b"retry")
    finally:
        await server.shutdown()
        assert rc.zcard(keys.ALL_SERVERS) == 0
        rc.close()


async def test_idle_wake_up_polls_the_announced_queue_first(start_server, client, r):
    """An idle worker woken by an enqueue asks that queue first: one round trip, not eight.

    (Direct handoff is off: it would spare even that round trip.)
    """
    queues = {f"q{i}": 1 for i in range(1, 9)}
    release = asyncio.Event()
    started: list[str] = []

    async def handler(task: ActiveTask) -> None:
        started.append(task.queue)
        await release.wait()

    await start_server(
        handler,
        queues=queues,
        strict_priority=True,
        concurrency=1,
        task_check_interval=60,
        direct_handoff=False,
    )
    await asyncio.sleep(0.1)  # the first (empty) poll of all eight queues is over
    r.config_resetstat()
    client.enqueue(asynq.Task("t", b""), queue="q8")
    await wait_until(lambda: started == ["q8"], within=5)
    # The only slot is busy now, so the worker makes no further dequeue attempt.
    pops = r.info("commandstats").get("cmdstat_rpoplpush", {}).get("calls", 0)
    assert pops == 1
    release.set()
