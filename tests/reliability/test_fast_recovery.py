"""The recoverer's dead-holder pass: a task whose lease lapsed and that no live server claims
runs again at once, while no valid lease, and no task a live server (Go's or this library's)
lists, is ever touched."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio

import asynq
from asynq._base import keys
from asynq._base.codec import decode_message
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from tests.helpers.waiting import wait_until
from tests.reliability._damage import rewrite_message
from tests.server.conftest import go_server, make_recoverer
from tests.server.gohelpers import go_json, wait_started

__all__ = ["go_server"]  # the fixture, used by name

Q = "default"
LEASE_EXPIRED = "asynq: task lease expired"


@pytest.fixture
async def driver(redis_url: str) -> AsyncIterator[AsyncDriver]:
    d = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    yield d
    await d.close()


def claim(r: redis.Redis, server: str, *task_ids: str) -> None:
    """List ``task_ids`` in a live server's workers hash, as its heartbeat does."""
    key = f"asynq:workers:{{{server}}}"
    r.hset(key, mapping={tid: b"info" for tid in task_ids})
    r.expire(key, 10)
    r.zadd(keys.ALL_WORKERS, {key: int(time.time()) + 10})


def claimed_by_a_live_server(r: redis.Redis, task_id: str) -> bool:
    return any(r.hexists(k, task_id) for k in r.zrange(keys.ALL_WORKERS, 0, -1))


def lease(r: redis.Redis, task_id: str) -> float | None:
    return r.zscore(keys.lease_key(Q), task_id)


async def test_only_unclaimed_tasks_with_a_lapsed_lease_are_recovered(
    driver: AsyncDriver, r: redis.Redis, redis_url: str
) -> None:
    with asynq.Client(redis_url) as client:
        orphan, claimed, valid, again = (client.enqueue(asynq.Task("t")).id for _ in range(4))
    rewrite_message(r, Q, again, retried=1)  # recovered before: this time it waits
    now = time.time()
    assert len(await driver.run(server_ops.dequeue(Q, 4, now))) == 4
    lapsed = int(now) - 5
    r.zadd(keys.lease_key(Q), {orphan: lapsed, claimed: lapsed, again: lapsed})
    valid_lease = lease(r, valid)
    claim(r, "host:1:live", claimed)

    assert await make_recoverer(driver).recover_dead_holders() == 2

    # Retried at once, and already pending again.
    assert r.lrange(keys.pending_key(Q), 0, -1) == [orphan.encode()]
    msg = decode_message(r.hget(keys.task_key(Q, orphan), "msg"))
    assert (msg.retried, msg.error_msg) == (1, LEASE_EXPIRED)
    # A second recovery waits the retry delay (60 s here).
    assert r.zscore(keys.retry_key(Q), again) >= int(now) + 59
    # A live server's task and a valid lease are left alone.
    assert r.lrange(keys.active_key(Q), 0, -1) == [valid.encode(), claimed.encode()]
    assert (lease(r, claimed), lease(r, valid)) == (lapsed, valid_lease)


async def test_nothing_is_recovered_while_its_lease_is_valid(
    driver: AsyncDriver, r: redis.Redis, redis_url: str
) -> None:
    with asynq.Client(redis_url) as client:
        tid = client.enqueue(asynq.Task("t")).id
    await driver.run(server_ops.dequeue(Q, 1, time.time()))
    r.zadd(keys.lease_key(Q), {tid: int(time.time())})  # lapses now, within the grace
    assert await make_recoverer(driver).recover_dead_holders() == 0
    assert r.lrange(keys.active_key(Q), 0, -1) == [tid.encode()]


@pytest.mark.interop
async def test_a_live_go_servers_task_is_respected_and_its_death_detected(
    driver: AsyncDriver, r: redis.Redis, redis_url: str, go_server: object
) -> None:
    go = go_server("-concurrency", "1")  # type: ignore[operator]
    await wait_started(go)
    with asynq.Client(redis_url) as client:
        tid = client.enqueue(asynq.Task("sleep", b"60")).id
    await wait_until(lambda: claimed_by_a_live_server(r, tid), within=20)
    # Even with its lease lapsed (as after a long stall), the Go server lists the task: kept.
    r.zadd(keys.lease_key(Q), {tid: int(time.time()) - 5})
    assert await make_recoverer(driver).recover_dead_holders() == 0
    assert r.hget(keys.task_key(Q, tid), "state") == b"active"

    go.kill()
    go.wait()
    r.zadd(keys.lease_key(Q), {tid: int(time.time()) - 5})  # the lease it held has lapsed
    # Once its workers hash expires (10 s after its last heartbeat) the Go server is dead.
    await wait_until(
        lambda: not any(r.exists(k) for k in r.zrange(keys.ALL_WORKERS, 0, -1)), within=15
    )
    assert await make_recoverer(driver).recover_dead_holders() == 1
    info = go_json("srv_inspect", redis_url, "task", Q, tid)
    assert (info["state"], info["retried"], info["last_err"]) == ("pending", 1, LEASE_EXPIRED)


@pytest.mark.interop
async def test_a_damaged_task_a_go_server_left_active_is_archived(
    driver: AsyncDriver, r: redis.Redis, redis_url: str, go_server: object
) -> None:
    with asynq.Client(redis_url) as client:
        tid = client.enqueue(asynq.Task("t")).id
    r.hset(keys.task_key(Q, tid), "msg", b"\xffjunk")
    go = go_server()  # type: ignore[operator]
    await wait_started(go)
    # Go's worker takes it, cannot decode it, and leaves it active without listing it.
    await wait_until(lambda: r.hget(keys.task_key(Q, tid), "state") == b"active")
    assert not claimed_by_a_live_server(r, tid)
    r.zadd(keys.lease_key(Q), {tid: int(time.time()) - 5})  # its lease lapsed, unextended
    assert await make_recoverer(driver).recover_dead_holders() == 1
    info = go_json("srv_inspect", redis_url, "task", Q, tid)
    assert info["state"] == "archived"
    assert info["last_err"].startswith("asynq: damaged task data: the message of task")
