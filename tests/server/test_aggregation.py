"""Group aggregation (Go's aggregator), alone, in a server, and across Go and Python."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

import asynq
from asynq._base import keys
from asynq._base.clock import FakeClock
from asynq._base.codec import decode_message
from asynq._broker.drivers import AsyncDriver
from asynq.server import ActiveTask, GroupAggregator
from asynq.server._aggregator import Aggregator
from tests.helpers.waiting import wait_until
from tests.server.gohelpers import go_enqueue, go_events, wait_started

Q = "default"


def join(group: str, tasks: list[asynq.Task]) -> asynq.Task:
    return asynq.Task(f"batch:{group}", b"|".join(t.payload for t in tasks), queue="elsewhere")


@pytest.fixture
async def driver(redis_url: str) -> AsyncIterator[AsyncDriver]:
    d = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    yield d
    await d.close()


def make_aggregator(driver: AsyncDriver, clock: FakeClock, fn, **kw) -> Aggregator:
    params = {"grace_period": 10.0, "max_delay": 0.0, "max_size": 0, **kw}
    return Aggregator(
        driver,
        clock,
        logging.getLogger("test"),
        queues=[Q],
        aggregator=fn,
        client=asynq.AsyncClient(driver.redis, clock=clock),
        executor=None,
        **params,
    )


async def test_grace_period_aggregation(driver, r):
    clock = FakeClock(1_700_000_000)
    client = asynq.Client(r, clock=clock)
    ids = [client.add_to_group(asynq.Task("t", b"%d" % i), "g").id for i in range(3)]
    agg = make_aggregator(driver, clock, join)
    assert await agg.aggregate_once(clock.now() + 9) == 0  # newest joined 9 s ago: wait
    assert await agg.aggregate_once(clock.now() + 10) == 1
    (pending,) = r.lrange(keys.pending_key(Q), 0, -1)  # the queue is forced to the group's
    msg = decode_message(r.hget(keys.task_key(Q, pending.decode()), "msg"))
    # Same-second members come in task-id order (ZRANGE ties), as for Go.
    assert (msg.type, msg.queue) == ("batch:g", Q)
    assert sorted(msg.payload.split(b"|")) == [b"0", b"1", b"2"]
    assert not any(r.exists(keys.task_key(Q, tid)) for tid in ids)
    assert r.zcard(keys.group_key(Q, "g")) == 0
    assert not r.sismember(keys.groups_key(Q), "g")
    assert r.zcard(keys.all_aggregation_sets(Q)) == 0


async def test_max_size_and_aggregator_object(driver, r):
    clock = FakeClock(1_700_000_000)
    client = asynq.Client(r, clock=clock)
    for i in range(5):
        client.add_to_group(asynq.Task("t", b"%d" % i), "g")

    class Joiner:
        async def aggregate(self, group: str, tasks: list[asynq.Task]) -> asynq.Task:
            return join(group, tasks)

    assert isinstance(Joiner(), GroupAggregator)
    agg = make_aggregator(driver, clock, Joiner(), max_size=2, grace_period=1000.0)
    assert await agg.aggregate_once(clock.now()) == 1
    assert r.zcard(keys.group_key(Q, "g")) == 3
    assert await agg.aggregate_once(clock.now()) == 1
    assert await agg.aggregate_once(clock.now()) == 0  # 1 left, not full, grace not over
    parts = [
        decode_message(r.hget(keys.task_key(Q, tid.decode()), "msg")).payload.split(b"|")
        for tid in r.lrange(keys.pending_key(Q), 0, -1)
    ]
    assert [len(p) for p in parts] == [2, 2]
    (left,) = r.zrange(keys.group_key(Q, "g"), 0, -1)
    left_payload = decode_message(r.hget(keys.task_key(Q, left.decode()), "msg")).payload
    assert sorted(parts[0] + parts[1] + [left_payload]) == [b"0", b"1", b"2", b"3", b"4"]


async def test_failed_aggregation_leaves_the_set_for_the_recoverer(driver, r):
    clock = FakeClock(1_700_000_000)
    client = asynq.Client(r, clock=clock)
    client.add_to_group(asynq.Task("t", b"x"), "g")

    def broken(group: str, tasks: list[asynq.Task]) -> asynq.Task:
        raise ValueError("no")

    agg = make_aggregator(driver, clock, broken)
    assert await agg.aggregate_once(clock.now() + 60) == 0
    assert r.zcard(keys.all_aggregation_sets(Q)) == 1
    assert r.llen(keys.pending_key(Q)) == 0


@pytest.mark.interop
async def test_server_aggregates_python_and_go_groups(start_server, client, r, redis_url):
    handled: list[tuple[str, bytes]] = []

    async def handler(task: ActiveTask) -> None:
        handled.append((task.type, task.payload))

    await start_server(handler, group_aggregator=join, group_grace_period=1)
    for p in (b"a", b"b"):
        client.add_to_group(asynq.Task("t", p), "py")
    go_enqueue(
        redis_url,
        [{"type": "t", "payload": p, "options": {"group": "go"}} for p in (b"c", b"d")],
    )
    await wait_until(lambda: len(handled) == 2, within=15)
    assert sorted((t, sorted(p.split(b"|"))) for t, p in handled) == [
        ("batch:go", [b"c", b"d"]),
        ("batch:py", [b"a", b"b"]),
    ]


@pytest.mark.interop
async def test_go_server_aggregates_python_groups(go_server, client, r):
    go = go_server("-aggregate", "-grace", "1")
    await wait_started(go)
    for p in (b"x", b"y", b"z"):
        client.add_to_group(asynq.Task("t", p), "pyg")
    await wait_until(lambda: go_events(go), within=15)
    (event,) = go_events(go)
    assert event["type"] == "aggregated:pyg"
    assert sorted(base64.b64decode(event["payload"]).split(b"|")) == [b"x", b"y", b"z"]
    assert go_events(go, "aggregated") == [{"event": "aggregated", "group": "pyg", "size": 3}]
