"""Direct handoff: an enqueue gives its task straight to an idle Python worker.

What users rely on: the handed-off task runs without the worker dequeuing it, Redis holds it
exactly as after Go's dequeue (Go's Inspector sees an active task and can cancel it), and no
task is ever handed to a worker that cannot run it (gone, busy, stopping, paused queue).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
import redis
import redis.asyncio

import asynq
from asynq._base import keys
from asynq._base.clock import SYSTEM_CLOCK
from asynq._base.codec import decode_message
from asynq._broker.drivers import AsyncDriver
from asynq.server import ActiveTask, Config, Server
from asynq.server import _subscriber as subscriber_module
from asynq.server._handoff import TTL_MARGIN
from asynq.server._recoverer import Recoverer
from tests.helpers.redis_procs import RedisProcess, free_port
from tests.helpers.waiting import wait_until
from tests.server.conftest import Sleeper
from tests.server.gohelpers import go_json, wait_started

Q = "default"


def next_message(pubsub: Any, within: float = 2.0) -> bytes | None:
    """The data of the next message on ``pubsub`` (subscribe confirmations skipped)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message is not None:
            return bytes(message["data"])
    return None


class Overhearing:
    """Listens on a worker's handoff channel too, to see what is handed to it."""

    def __init__(self, r: redis.Redis, server: Server) -> None:
        self._pubsub = r.pubsub()
        self._pubsub.subscribe(channel_of(server))
        next_message(self._pubsub, 0.2)  # the subscription is confirmed

    def handed(self, within: float = 2.0) -> bytes | None:
        """The next task message handed to the worker, if any."""
        return next_message(self._pubsub, within)

    def close(self) -> None:
        self._pubsub.close()


def channel_of(server: Server) -> str:
    return keys.handoff_channel(server.server_id)


def registered(r: redis.Redis, server: Server, qname: str = Q) -> float | None:
    score = r.zscore(keys.handoff_key(qname), channel_of(server))
    return None if score is None else float(score)


def task_hash(r: redis.Redis, qname: str, task_id: str) -> dict[bytes, bytes]:
    return dict(r.hgetall(keys.task_key(qname, task_id)))


class Blocker:
    """A handler that records each task and blocks until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, task: ActiveTask) -> None:
        self.started.append(task.id)
        await self.release.wait()


async def test_idle_worker_registers_and_is_handed_the_task(start_server, client, r):
    blocker = Blocker()
    # A 60 s poll: only a handoff or a wake-up can explain a pickup.
    server = await start_server(blocker, task_check_interval=60)
    await wait_until(lambda: registered(r, server) is not None)
    lapses_at = registered(r, server)
    assert lapses_at is not None
    assert abs(lapses_at / 1000 - (time.time() + 60 + TTL_MARGIN)) < 5
    assert 0 < r.pttl(keys.handoff_key(Q)) <= (60 + TTL_MARGIN) * 1000

    overhearing = Overhearing(r, server)
    info = client.enqueue(asynq.Task("t", b"x"))
    # The enqueue moved the task and published its message to the worker.
    assert overhearing.handed() == r.hget(keys.task_key(Q, info.id), "msg")
    overhearing.close()
    await wait_until(lambda: blocker.started == [info.id], within=5)
    assert r.lrange(keys.active_key(Q), 0, -1) == [info.id.encode()]
    assert r.llen(keys.pending_key(Q)) == 0
    blocker.release.set()
    await wait_until(lambda: not r.exists(keys.task_key(Q, info.id)))
    assert r.zcard(keys.lease_key(Q)) == 0
    assert r.get(keys.processed_total_key(Q)) == b"1"
    # Idle again: registered again, ready for the next one.
    await wait_until(lambda: registered(r, server) is not None)


async def _held_task_state(start_server: Any, client: Any, r: Any, handoff: bool) -> Any:
    """Enqueue one task to an idle worker and read its Redis state while the handler runs."""
    blocker = Blocker()
    server = await start_server(blocker, task_check_interval=60, direct_handoff=handoff)
    if handoff:
        await wait_until(lambda: registered(r, server) is not None)
    else:
        await asyncio.sleep(0.1)  # the first (empty) poll is over
    info = client.enqueue(asynq.Task("t", b"payload"), retention=60, unique=60)
    await wait_until(lambda: blocker.started == [info.id], within=5)
    fields = task_hash(r, Q, info.id)
    lease = r.zscore(keys.lease_key(Q), info.id)
    state = {
        "fields": sorted(fields),
        "msg": fields[b"msg"],
        "state": fields[b"state"],
        "unique_key": fields[b"unique_key"],
        "active": r.lrange(keys.active_key(Q), 0, -1),
        "pending": r.lrange(keys.pending_key(Q), 0, -1),
    }
    blocker.release.set()
    await server.shutdown()  # so that the next run's worker is the only one
    return info, state, lease


async def test_handed_off_task_is_stored_as_after_a_dequeue(start_server, client, r):
    """The same hash, lists and lease as when the worker dequeues it (Go's dequeue effects)."""
    handed, with_handoff, lease = await _held_task_state(start_server, client, r, True)
    r.flushall()
    dequeued, without, dequeued_lease = await _held_task_state(start_server, client, r, False)
    assert with_handoff["fields"] == without["fields"] == [b"msg", b"state", b"unique_key"]
    assert with_handoff["state"] == without["state"] == b"active"
    assert with_handoff["active"] == [handed.id.encode()]
    assert without["active"] == [dequeued.id.encode()]
    assert with_handoff["pending"] == without["pending"] == []
    assert lease is not None and dequeued_lease is not None
    assert abs(lease - (time.time() + 30)) <= 2
    assert abs(dequeued_lease - (time.time() + 30)) <= 2


@pytest.mark.interop
async def test_go_inspector_sees_and_cancels_a_handed_off_task(start_server, client, r, redis_url):
    sleeper = Sleeper()
    server = await start_server(sleeper, task_check_interval=60)
    await wait_until(lambda: registered(r, server) is not None)
    overhearing = Overhearing(r, server)
    info = client.enqueue(asynq.Task("t", b"go sees me"), max_retry=3)
    assert overhearing.handed() is not None
    overhearing.close()
    await wait_until(lambda: server.in_flight == 1, within=5)
    answers = go_json(
        "insp_call",
        redis_url,
        input=[
            {"op": "GetTaskInfo", "queue": Q, "id": info.id},
            {"op": "ListActiveTasks", "queue": Q},
            {"op": "CancelProcessing", "id": info.id},
        ],
    )
    assert all("ok" in a for a in answers), answers
    task_info, active, _ = (a["ok"] for a in answers)
    assert task_info["state"] == "active"
    assert task_info["is_orphaned"] is False  # leased: not mistaken for an abandoned task
    assert [t["id"] for t in active] == [info.id]
    await asyncio.wait_for(sleeper.cancelled.wait(), 5)
    await wait_until(lambda: r.hget(keys.task_key(Q, info.id), "state") == b"retry")


async def test_registration_of_a_closed_connection_is_passed_over(client, r):
    """A worker that registered and then vanished (crash, lost connection) gets nothing."""
    gone = keys.handoff_channel("gone-worker")
    r.zadd(keys.handoff_key(Q), {gone: int(time.time() * 1000) + 60_000})
    wake_ups = r.pubsub()
    wake_ups.subscribe(keys.pending_key(Q))
    next_message(wake_ups, 0.2)
    try:
        info = client.enqueue(asynq.Task("t", b""))
        assert r.lrange(keys.pending_key(Q), 0, -1) == [info.id.encode()]
        assert r.hget(keys.task_key(Q, info.id), "state") == b"pending"
        assert r.zcard(keys.lease_key(Q)) == 0
        assert r.zscore(keys.handoff_key(Q), gone) is None  # used up
        assert next_message(wake_ups) == info.id.encode()  # idle workers are woken instead
    finally:
        wake_ups.close()


@pytest.fixture
def listener(r: redis.Redis) -> Any:
    """A live subscriber on a handoff channel, registered in the default queue."""
    channel = keys.handoff_channel("test-listener")
    pubsub = r.pubsub()
    pubsub.subscribe(channel)
    next_message(pubsub, 0.2)

    def register(lapses_in: float = 60.0) -> None:
        r.zadd(keys.handoff_key(Q), {channel: int((time.time() + lapses_in) * 1000)})

    register.pubsub = pubsub  # type: ignore[attr-defined]
    register.channel = channel  # type: ignore[attr-defined]
    yield register
    pubsub.close()


def test_the_handed_off_message_is_the_stored_one(client, r, listener):
    listener()
    info = client.enqueue(asynq.Task("t", b"payload"), queue=Q)
    assert next_message(listener.pubsub) == r.hget(keys.task_key(Q, info.id), "msg")
    assert r.zscore(keys.handoff_key(Q), listener.channel) is None  # one registration, one task


@pytest.mark.parametrize("case", ["paused", "older task pending", "registration lapsed"])
def test_no_handoff(case, client, r, listener):
    listener(lapses_in=-1 if case == "registration lapsed" else 60)
    if case == "paused":
        r.set(keys.paused_key(Q), int(time.time()))
    if case == "older task pending":
        # It must not be overtaken; the worker will dequeue both in order.
        r.lpush(keys.pending_key(Q), "older-id")
    info = client.enqueue(asynq.Task("t", b""))
    assert r.hget(keys.task_key(Q, info.id), "state") == b"pending"
    assert info.id.encode() in r.lrange(keys.pending_key(Q), 0, -1)
    assert r.llen(keys.active_key(Q)) == 0
    assert next_message(listener.pubsub, 0.2) is None
    if case == "registration lapsed":
        assert r.zscore(keys.handoff_key(Q), listener.channel) is None  # swept
    else:
        assert r.zscore(keys.handoff_key(Q), listener.channel) is not None  # kept for later


async def test_a_busy_worker_gives_a_handed_task_back(start_server, client, r):
    """A registration that outlived the free slot: the task returns to the queue and runs later."""
    blocker = Blocker()
    server = await start_server(blocker, concurrency=1, task_check_interval=0.2)
    first = client.enqueue(asynq.Task("t", b"1"))
    await wait_until(lambda: blocker.started == [first.id], within=5)
    # The only slot is taken; plant a registration as if it were still free.
    r.zadd(keys.handoff_key(Q), {channel_of(server): int(time.time() * 1000) + 60_000})
    second = client.enqueue(asynq.Task("t", b"2"))
    await wait_until(lambda: r.lrange(keys.pending_key(Q), 0, -1) == [second.id.encode()])
    assert r.hget(keys.task_key(Q, second.id), "state") == b"pending"
    assert r.zscore(keys.lease_key(Q), second.id) is None
    assert server.in_flight == 1
    blocker.release.set()
    await wait_until(lambda: blocker.started == [first.id, second.id], within=5)


async def test_stopping_withdraws_the_registration(start_server, r):
    server = await start_server(Blocker(), task_check_interval=60)
    await wait_until(lambda: registered(r, server) is not None)
    server.stop()
    await wait_until(lambda: registered(r, server) is None, within=5)


async def test_a_lost_subscription_is_never_handed_a_task(start_server, client, r):
    done: list[str] = []
    server = await start_server(lambda task: done.append(task.id), task_check_interval=0.2)
    await wait_until(lambda: registered(r, server) is not None)
    r.client_kill_filter(_type="pubsub")
    subscriber = server.subscriber
    assert subscriber is not None
    await wait_until(lambda: not subscriber.subscribed.is_set())
    # The registration outlives the connection (until it lapses)...
    assert registered(r, server) is not None
    info = client.enqueue(asynq.Task("t", b""))
    # ...but nobody listened on the worker's channel, so the task stayed pending (this test
    # shares the worker's event loop: the worker cannot have run since the enqueue).
    assert r.hget(keys.task_key(Q, info.id), "state") == b"pending"
    assert registered(r, server) is None
    await wait_until(lambda: done == [info.id], within=5)  # found by the poll
    await wait_until(subscriber.subscribed.is_set, within=10)  # and the subscription is back


async def test_unique_task_handed_off_releases_its_lock_when_done(start_server, client, r):
    done: list[str] = []
    server = await start_server(lambda task: done.append(task.id), task_check_interval=60)
    await wait_until(lambda: registered(r, server) is not None)
    overhearing = Overhearing(r, server)
    info = client.enqueue(asynq.Task("t", b"u"), unique=60)
    assert overhearing.handed() is not None
    overhearing.close()
    await wait_until(lambda: done == [info.id], within=5)
    unique_key = keys.unique_key(Q, "t", b"u")
    await wait_until(lambda: not r.exists(unique_key))


async def test_resp3_connection_subscribes_and_receives(redis_url, client, r):
    done: list[str] = []
    server = Server(f"{redis_url}?protocol=3", Config(task_check_interval=60))
    await server.start(lambda task: done.append(task.id))
    try:
        assert server.subscriber is not None
        await asyncio.wait_for(server.subscriber.subscribed.wait(), 5)
        await wait_until(lambda: registered(r, server) is not None)
        info = client.enqueue(asynq.Task("t", b""))
        await wait_until(lambda: done == [info.id], within=5)
    finally:
        await server.shutdown()


@pytest.mark.cluster
async def test_no_registration_on_redis_cluster(cluster):
    """Cluster PUBLISH cannot tell whether the worker listens, so handoff stays off there."""
    done: list[str] = []
    server = Server(cluster.url, Config(task_check_interval=60))
    await server.start(lambda task: done.append(task.id))
    rc = asynq.RedisConnection.from_url(cluster.url).sync_client()
    try:
        assert server.subscriber is not None
        await asyncio.wait_for(server.subscriber.subscribed.wait(), 5)
        await asyncio.sleep(0.2)
        assert not rc.exists(keys.handoff_key(Q))
        with asynq.Client(cluster.url) as client:
            info = client.enqueue(asynq.Task("t", b""))
        await wait_until(lambda: done == [info.id], within=5)  # woken by the publish
    finally:
        await server.shutdown()
        rc.close()


async def test_a_stopped_worker_gives_a_handed_task_back(start_server, client, r):
    """SIGTSTP-style stop: a registration planted afterwards still never runs a task here."""
    done: list[str] = []
    server = await start_server(lambda task: done.append(task.id), task_check_interval=60)
    await wait_until(lambda: registered(r, server) is not None)
    server.stop()
    await wait_until(lambda: registered(r, server) is None, within=5)
    r.zadd(keys.handoff_key(Q), {channel_of(server): int(time.time() * 1000) + 60_000})
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: r.lrange(keys.pending_key(Q), 0, -1) == [info.id.encode()])
    assert r.hget(keys.task_key(Q, info.id), "state") == b"pending"
    assert r.llen(keys.active_key(Q)) == 0
    await asyncio.sleep(0.2)
    assert done == []


def _connection(kind: str, request: pytest.FixtureRequest) -> tuple[Any, redis.Redis]:
    """How a Server reaches the kind of Redis named, and a plain client of the same data."""
    if kind == "unix socket":
        s = request.getfixturevalue("socket_redis")
        return f"redis-socket://{s.path}", redis.Redis(unix_socket_path=s.path)
    if kind == "TLS":
        s = request.getfixturevalue("tls_redis")
        url = f"rediss://127.0.0.1:{s.tls_port}/0"
        return asynq.RedisConnection.from_url(url, ssl_ca_certs=s.ca), redis.Redis(port=s.proc.port)
    s = request.getfixturevalue("sentinel_redis")
    url = f"redis-sentinel://127.0.0.1:{s.port}/0?master={s.master_name}"
    return url, redis.Redis(port=s.master.port)


@pytest.mark.parametrize("kind", ["unix socket", "TLS", "Sentinel"])
async def test_handoff_over_every_kind_of_connection(kind, request):
    """The subscriber takes over the socket redis-py opened, whatever its transport."""
    conn, raw = _connection(kind, request)
    raw.flushdb()
    done: list[str] = []
    server = Server(conn, Config(task_check_interval=60))
    await server.start(lambda task: done.append(task.id))
    overhearing = None
    try:
        await wait_until(lambda: registered(raw, server) is not None)
        overhearing = Overhearing(raw, server)
        with asynq.Client(conn) as client:
            info = client.enqueue(asynq.Task("t", kind.encode()))
        assert overhearing.handed() == raw.hget(keys.task_key(Q, info.id), "msg")
        await wait_until(lambda: done == [info.id], within=5)
    finally:
        if overhearing is not None:
            overhearing.close()
        await server.shutdown()
        raw.flushdb()
        raw.close()


@pytest.mark.parametrize("recoverer", ["python", pytest.param("go", marks=pytest.mark.interop)])
async def test_a_handed_task_whose_worker_vanished_is_recovered(
    recoverer, redis_url, client, r, listener, go_server
):
    """The message reached a listener that then went away: once the lease has run out, the
    recoverer (Python's, or a Go server's sharing the queue) retries the task, as after a
    worker crash."""
    listener()
    info = client.enqueue(asynq.Task("t", b""))
    assert next_message(listener.pubsub) is not None
    listener.pubsub.close()
    assert r.hget(keys.task_key(Q, info.id), "state") == b"active"
    r.zadd(keys.lease_key(Q), {info.id: int(time.time()) - 60})  # expired a minute ago
    if recoverer == "go":
        await wait_started(go_server())  # Go's recoverer runs at start
    else:
        driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
        try:
            await Recoverer(
                driver,
                SYSTEM_CLOCK,
                logging.getLogger("test"),
                queues=[Q],
                retry_delay_func=lambda n, exc, task: 100,
                is_failure=lambda exc: True,
            ).recover_once()
        finally:
            await driver.close()
    await wait_until(lambda: r.hget(keys.task_key(Q, info.id), "state") == b"retry")
    msg = decode_message(r.hget(keys.task_key(Q, info.id), "msg"))
    assert (msg.error_msg, msg.retried) == ("asynq: task lease expired", 1)


async def test_garbage_on_the_handoff_channel_is_logged_and_skipped(
    start_server, client, r, caplog
):
    done: list[str] = []
    server = await start_server(lambda task: done.append(task.id), task_check_interval=60)
    await wait_until(lambda: registered(r, server) is not None)
    assert r.publish(channel_of(server), b"\xff not a task message") == 1
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: done == [info.id], within=5)
    assert "cannot decode a task message" in caplog.text
    assert server.subscriber is not None and server.subscriber.subscribed.is_set()


async def test_worker_rides_out_a_redis_restart(monkeypatch):
    """Redis goes away and comes back empty: the worker neither crashes nor stalls; it
    subscribes and registers again, and new tasks are handed to it as before."""
    monkeypatch.setattr(subscriber_module, "RETRY_INTERVAL", 0.2)
    port = free_port()
    redis_server = RedisProcess(port)
    url = redis_server.url
    done: list[str] = []
    server = Server(url, Config(task_check_interval=0.2, concurrency=2))
    await server.start(lambda task: done.append(task.id))
    raw = redis.Redis(port=port)
    try:
        with asynq.Client(url) as client:
            first = client.enqueue(asynq.Task("t", b"1"))
            await wait_until(lambda: done == [first.id], within=5)
            redis_server.stop()
            await asyncio.sleep(1.0)  # errors are logged and retried meanwhile
            redis_server = RedisProcess(port)
            second = client.enqueue(asynq.Task("t", b"2"))
            await wait_until(lambda: done == [first.id, second.id], within=10)
            overhearing = Overhearing(raw, server)
            subscriber = server.subscriber
            assert subscriber is not None
            # A registration sent before the restart may land late (redis-py retries it) and
            # lapse at once: wait for a fresh one, made while subscribed again.
            await wait_until(
                lambda: (
                    subscriber.subscribed.is_set()
                    and (registered(raw, server) or 0) / 1000 > time.time() + 0.5
                ),
                within=10,
            )
            seen = (time.time(), raw.zrange(keys.handoff_key(Q), 0, -1, withscores=True))
            third = client.enqueue(asynq.Task("t", b"3"))
            handed = overhearing.handed()
            overhearing.close()
            assert handed == raw.hget(keys.task_key(Q, third.id), "msg"), (seen, done)
            await wait_until(lambda: done == [first.id, second.id, third.id], within=5)
    finally:
        await server.shutdown()
        raw.close()
        redis_server.stop()
