"""Background components on their own: recoverer, forwarder, janitor, syncer, health check."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

import asynq
from asynq._base import keys
from asynq._base.clock import FakeClock
from asynq._base.codec import decode_message
from asynq._broker.calls import Command, Op
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import aggregation_ops, server_ops
from asynq.server import ActiveTask
from asynq.server._forwarder import Forwarder
from asynq.server._healthcheck import HealthChecker
from asynq.server._janitor import Janitor
from asynq.server._recoverer import Recoverer
from asynq.server._syncer import Syncer, SyncRequest
from tests.helpers.waiting import wait_until
from tests.server.conftest import read_msg, state

Q = "default"
log = logging.getLogger("test")


@pytest.fixture
async def driver(redis_url: str) -> AsyncIterator[AsyncDriver]:
    d = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    yield d
    await d.close()


def make_active(client: asynq.Client, r: redis.Redis, lease_scores: dict[str, int], **opts):
    """Enqueue one task per key, dequeue them all, then set their lease scores."""
    ids = {}
    for name in lease_scores:
        ids[name] = client.enqueue(asynq.Task("t", name.encode()), **opts.get(name, {})).id
    for _ in lease_scores:
        r.rpoplpush(keys.pending_key(Q), keys.active_key(Q))
    for name, score in lease_scores.items():
        r.hset(keys.task_key(Q, ids[name]), "state", "active")
        r.zadd(keys.lease_key(Q), {ids[name]: score})
    return ids


async def test_recoverer_retries_and_archives_orphans(driver, client, r):
    now = int(time.time())
    ids = make_active(
        client,
        r,
        {"expired": now - 31, "recent": now - 10, "exhausted": now - 60},
        exhausted={"max_retry": 0},
    )
    recoverer = Recoverer(
        driver,
        FakeClock(now),
        log,
        queues=[Q],
        retry_delay_func=lambda n, exc, task: 100,
        is_failure=lambda exc: True,
    )
    await recoverer.recover_once()
    assert state(r, Q, ids["expired"]) == "retry"
    assert r.zscore(keys.retry_key(Q), ids["expired"]) == now + 100
    msg = read_msg(r, Q, ids["expired"])
    assert (msg.error_msg, msg.retried, msg.last_failed_at) == ("asynq: task lease expired", 1, now)
    assert state(r, Q, ids["recent"]) == "active"  # expired < 30 s ago: left alone
    assert state(r, Q, ids["exhausted"]) == "archived"
    assert read_msg(r, Q, ids["exhausted"]).error_msg == "asynq: task lease expired"
    assert r.lrange(keys.active_key(Q), 0, -1) == [ids["recent"].encode()]
    assert r.get(keys.processed_total_key(Q)) == b"2"
    assert r.get(keys.failed_total_key(Q)) == b"2"


async def test_recoverer_reclaims_stale_aggregation_sets(driver, r):
    r.zadd(keys.group_key(Q, "g"), {"a": 90})
    set_id = await driver.run(aggregation_ops.aggregation_check(Q, "g", 200, 10, 0, 0, 100))
    recoverer = Recoverer(
        driver,
        FakeClock(1000),
        log,
        queues=[Q],
        retry_delay_func=lambda *a: 1,
        is_failure=lambda exc: True,
    )
    await recoverer.recover_once()
    assert not r.exists(keys.aggregation_set_key(Q, "g", set_id))
    assert r.zrange(keys.group_key(Q, "g"), 0, -1) == [b"a"]


async def test_server_recovers_at_start(start_server, client, r):
    """Go's recoverer runs immediately at Start."""
    now = int(time.time())
    ids = make_active(client, r, {"orphan": now - 40})
    await start_server(lambda task: None, retry_delay_func=lambda *a: 100)
    await wait_until(lambda: state(r, Q, ids["orphan"]) == "retry")


async def test_forwarder_and_server_pick_up_scheduled(start_server, client, r):
    done: list[str] = []
    await start_server(lambda task: done.append(task.id))
    info = client.enqueue(asynq.Task("later", b""), process_in=1)
    assert state(r, Q, info.id) == "scheduled"
    await wait_until(lambda: done == [info.id], within=5)


async def test_forwarder_once(driver, client, r):
    clock = FakeClock()
    info = client.enqueue(asynq.Task("later", b""), process_in=60)
    forwarder = Forwarder(driver, clock, log, queues=[Q], interval=5)
    assert await forwarder.forward_once() == 0
    clock.advance(61)
    assert await forwarder.forward_once() == 1
    assert state(r, Q, info.id) == "pending"
    assert int(r.hget(keys.task_key(Q, info.id), "pending_since")) == clock.now_ns()


async def test_janitor_deletes_expired_completed(driver, client, r):
    clock = FakeClock()
    for _ in range(3):
        client.enqueue(asynq.Task("t", b""), retention=10)
    msgs = [decode_message(t.data) for t in await driver.run(server_ops.dequeue(Q, 3, clock.now()))]
    for msg in msgs:
        await driver.run(server_ops.run_call(server_ops.mark_as_complete_call(msg, clock.now())))
    janitor = Janitor(driver, clock, log, queues=[Q], interval=8, batch_size=2)
    assert await janitor.clean_once() == 0
    clock.advance(11)
    assert await janitor.clean_once() == 3
    assert r.zcard(keys.completed_key(Q)) == 0
    assert not any(r.exists(keys.task_key(Q, m.id)) for m in msgs)


async def test_syncer_retries_until_success_and_drops_stale(driver, r):
    clock = FakeClock()
    r.set("k", "not-a-number")

    def incr() -> Op[None]:
        yield Command(("INCR", "k"))

    syncer = Syncer(driver, clock, log)
    syncer.add(SyncRequest(incr, "incr k", deadline=clock.now() + 30))
    syncer.add(SyncRequest(incr, "stale", deadline=clock.now() + 1))
    await syncer.sync_once()
    assert syncer.pending == 2
    clock.advance(2)
    r.set("k", 1)
    await syncer.sync_once()
    assert syncer.pending == 0
    assert r.get("k") == b"2"  # the stale request was dropped, not run


async def test_failed_outcome_write_goes_to_syncer(start_server, client, r):
    release = asyncio.Event()
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await release.wait()

    server = await start_server(handler)
    info = client.enqueue(asynq.Task("t", b""))
    await asyncio.wait_for(started.wait(), 5)
    r.lrem(keys.active_key(Q), 0, info.id)  # done will answer NOT FOUND
    release.set()
    await wait_until(lambda: server._parts.syncer.pending == 1)
    r.lpush(keys.active_key(Q), info.id)
    await server._parts.syncer.sync_once()
    assert server._parts.syncer.pending == 0
    assert not r.exists(keys.task_key(Q, info.id))


async def test_healthcheck_reports_ping_result(driver):
    results: list[BaseException | None] = []
    await HealthChecker(driver, log, func=results.append, interval=1).check_once()
    dead = AsyncDriver(
        redis.asyncio.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    )
    await HealthChecker(dead, log, func=results.append, interval=1).check_once()
    await dead.close()
    assert results[0] is None
    assert isinstance(results[1], asynq.BrokerError)


async def test_server_runs_healthcheck(start_server):
    results: list[BaseException | None] = []
    await start_server(
        lambda task: None, health_check_func=results.append, health_check_interval=0.1
    )
    await wait_until(lambda: len(results) >= 2)
    assert results[:2] == [None, None]
