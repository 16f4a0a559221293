"""What each enqueue path writes to Redis, key by key, in Go asynq v0.26.0's layout
(docs/compatibility.md#producer-writes).

Every test runs under both ``Client`` and ``AsyncClient`` (the ``make_client`` fixture).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from asynq import FakeClock, Task, TaskState
from asynq._base import keys
from tests.client.layout import (
    all_keys,
    assert_integer_score,
    assert_ns_close_to_now,
    expected_message,
    message,
    task_hash,
)

PAYLOAD = b'{"to":"a@b.c"}'
#: 2026-02-03T00:00:00.75Z, with a fraction so truncation to whole seconds shows.
FAKE_NOW = 1_770_076_800.75


def test_enqueue_writes_hash_list_and_queue(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    before = time.time_ns()
    info = client.enqueue(
        Task("email:send", PAYLOAD, headers={"trace": "abc"}),
        queue="critical",
        task_id="t1",
        max_retry=3,
        timeout=60,
        retention=timedelta(hours=1),
    )
    after = time.time_ns()

    fields = task_hash(r, "critical", "t1")
    assert set(fields) == {"msg", "state", "pending_since"}
    assert fields["state"] == b"pending"
    assert_ns_close_to_now(fields["pending_since"], before, after)
    assert message(fields) == expected_message(
        type="email:send",
        payload=PAYLOAD,
        id="t1",
        queue="critical",
        retry=3,
        timeout=60,
        retention=3600,
        headers={"trace": "abc"},
    )
    assert r.type("asynq:{critical}:pending") == b"list"
    assert r.lrange("asynq:{critical}:pending", 0, -1) == [b"t1"]
    assert r.smembers("asynq:queues") == {b"critical"}
    assert all_keys(r) == {"asynq:queues", "asynq:{critical}:pending", "asynq:{critical}:t:t1"}

    assert info.id == "t1" and info.queue == "critical" and info.type == "email:send"
    assert info.state is TaskState.PENDING
    assert info.payload == PAYLOAD and info.headers == {"trace": "abc"}
    assert info.max_retry == 3 and info.timeout == timedelta(seconds=60)
    assert info.retention == timedelta(hours=1)
    assert info.next_process_at is not None
    assert before / 1e9 - 1 <= info.next_process_at.timestamp() <= after / 1e9 + 1


def test_enqueue_with_go_defaults_stores_the_go_bytes(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("email:send", PAYLOAD), task_id="7d1b3f2e-5c1a-4f0e-9b7a-2d3c4e5f6a7b")
    fields = task_hash(r, "default", "7d1b3f2e-5c1a-4f0e-9b7a-2d3c4e5f6a7b")
    # The bytes Go's Client.Enqueue writes for this task
    # (docs/compatibility.md#protobuf-worked-example).
    assert fields["msg"] == bytes.fromhex(
        "0a0a656d61696c3a73656e64120e7b22746f223a226140622e63227d1a2437643162336632652d356331612d"
        "346630652d396237612d326433633465356636613762220764656661756c74281940880e"
    )


def test_pending_list_is_fifo_for_consumers(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    ids = [client.enqueue(Task("t", str(i).encode())).id for i in range(3)]
    # LPUSH on the left; Go servers RPOPLPUSH from the right, oldest first.
    assert r.lrange("asynq:{default}:pending", 0, -1) == [i.encode() for i in reversed(ids)]
    assert r.rpop("asynq:{default}:pending") == ids[0].encode()


def test_enqueue_unique(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    before = time.time_ns()
    info = client.enqueue(Task("email:send", PAYLOAD), unique=timedelta(hours=1), task_id="u1")
    after = time.time_ns()

    ukey = "asynq:{default}:unique:email:send:9c101e63e8b8c4cb30a5402296afa24c"
    fields = task_hash(r, "default", "u1")
    assert set(fields) == {"msg", "state", "pending_since", "unique_key"}
    assert fields["state"] == b"pending"
    assert fields["unique_key"] == ukey.encode()
    assert_ns_close_to_now(fields["pending_since"], before, after)
    assert message(fields) == expected_message(
        type="email:send", payload=PAYLOAD, id="u1", unique_key=ukey
    )
    assert r.get(ukey) == b"u1"
    assert 3590 <= r.ttl(ukey) <= 3600
    assert r.lrange("asynq:{default}:pending", 0, -1) == [b"u1"]
    assert all_keys(r) == {"asynq:queues", "asynq:{default}:pending", "asynq:{default}:t:u1", ukey}
    assert info.state is TaskState.PENDING


def test_enqueue_unique_nil_and_empty_payload_lock_different_keys(make_client, redis_url, r):
    client = make_client(redis_url)
    client.enqueue(Task("ping"), unique=60)
    client.enqueue(Task("ping", b""), unique=60)
    assert r.exists("asynq:{default}:unique:ping:") == 1
    assert r.exists("asynq:{default}:unique:ping:d41d8cd98f00b204e9800998ecf8427e") == 1
    assert r.llen("asynq:{default}:pending") == 2


def test_unique_ttl_is_truncated_to_whole_seconds(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"p"), unique=timedelta(seconds=90, milliseconds=900))
    pttl = r.pttl(keys.unique_key("default", "t", b"p"))
    assert 80_000 < pttl <= 90_000


def test_schedule(make_client, redis_url, r) -> None:
    client = make_client(redis_url, clock=FakeClock(FAKE_NOW))
    info = client.enqueue(Task("report", b"r"), process_in=600, queue="low", task_id="s1")

    fields = task_hash(r, "low", "s1")
    # No pending_since, and no group
    # (docs/compatibility.md#quirk-scheduled-group-task-is-not-aggregated).
    assert set(fields) == {"msg", "state"}
    assert fields["state"] == b"scheduled"
    assert message(fields) == expected_message(type="report", payload=b"r", id="s1", queue="low")
    assert r.type("asynq:{low}:scheduled") == b"zset"
    assert r.zrange("asynq:{low}:scheduled", 0, -1) == [b"s1"]
    assert_integer_score(r.zscore("asynq:{low}:scheduled", "s1"), 1_770_077_400)
    assert all_keys(r) == {"asynq:queues", "asynq:{low}:scheduled", "asynq:{low}:t:s1"}
    assert r.smembers("asynq:queues") == {b"low"}
    assert info.state is TaskState.SCHEDULED
    assert info.next_process_at == datetime.fromtimestamp(FAKE_NOW + 600, UTC)


def test_schedule_with_group_is_only_scheduled(make_client, redis_url, r) -> None:
    # The message keeps the group but the hash gets no `group` field
    # (docs/compatibility.md#quirk-scheduled-group-task-is-not-aggregated).
    client = make_client(redis_url)
    info = client.enqueue(Task("t"), group="g1", process_in=60, task_id="sg")
    fields = task_hash(r, "default", "sg")
    assert set(fields) == {"msg", "state"}
    assert message(fields).group_key == "g1"
    assert r.exists("asynq:{default}:groups", "asynq:{default}:g:g1") == 0
    assert info.state is TaskState.SCHEDULED and info.group == "g1"


def test_schedule_unique(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    before = int(time.time())
    info = client.enqueue(
        Task("report", b"r"), process_in=timedelta(minutes=10), unique=timedelta(hours=1)
    )
    ukey = "asynq:{default}:unique:report:4b43b0aee35624cd95b910189b3dc231"
    fields = task_hash(r, "default", info.id)
    assert set(fields) == {"msg", "state", "unique_key"}
    assert fields["state"] == b"scheduled"
    assert fields["unique_key"] == ukey.encode()
    assert message(fields).unique_key == ukey
    score = r.zscore("asynq:{default}:scheduled", info.id)
    assert score is not None and score == int(score)
    assert before + 600 <= score <= time.time() + 600
    assert r.get(ukey) == info.id.encode()
    # The lock lasts until process-at plus the TTL, truncated: Go sends EX 4199 here.
    assert 4_190_000 < r.pttl(ukey) <= 4_199_000


def test_add_to_group(make_client, redis_url, r) -> None:
    client = make_client(redis_url, clock=FakeClock(FAKE_NOW))
    info = client.add_to_group(Task("agg", b"a"), "g1", task_id="g-1")
    client.add_to_group(Task("agg", b"b"), "g1", task_id="g-2")
    client.add_to_group(Task("agg", b"c"), "g2", task_id="g-3")

    fields = task_hash(r, "default", "g-1")
    assert set(fields) == {"msg", "state", "group"}
    assert fields["state"] == b"aggregating"
    assert fields["group"] == b"g1"
    assert message(fields) == expected_message(type="agg", payload=b"a", id="g-1", group_key="g1")
    assert r.type("asynq:{default}:g:g1") == b"zset"
    assert r.zrange("asynq:{default}:g:g1", 0, -1) == [b"g-1", b"g-2"]
    assert_integer_score(r.zscore("asynq:{default}:g:g1", "g-1"), 1_770_076_800)
    assert r.smembers("asynq:{default}:groups") == {b"g1", b"g2"}
    assert r.exists("asynq:{default}:pending") == 0
    assert all_keys(r) == {
        "asynq:queues",
        "asynq:{default}:groups",
        "asynq:{default}:g:g1",
        "asynq:{default}:g:g2",
        "asynq:{default}:t:g-1",
        "asynq:{default}:t:g-2",
        "asynq:{default}:t:g-3",
    }
    assert info.state is TaskState.AGGREGATING
    assert info.group == "g1"
    assert info.next_process_at is None


def test_add_to_group_unique(make_client, redis_url, r) -> None:
    client = make_client(redis_url, clock=FakeClock(FAKE_NOW))
    info = client.add_to_group(Task("agg", b"a"), "g1", unique=120, task_id="gu")
    ukey = "asynq:{default}:unique:agg:0cc175b9c0f1b6a831c399e269772661"
    fields = task_hash(r, "default", "gu")
    # No unique_key field (docs/compatibility.md#quirk-group-unique-lock).
    assert set(fields) == {"msg", "state", "group"}
    assert fields["state"] == b"aggregating"
    assert message(fields).unique_key == ukey  # ...but the message names the lock
    assert r.get(ukey) == b"gu"
    assert 110 <= r.ttl(ukey) <= 120
    assert_integer_score(r.zscore("asynq:{default}:g:g1", "gu"), 1_770_076_800)
    assert r.smembers("asynq:{default}:groups") == {b"g1"}
    assert info.state is TaskState.AGGREGATING


def test_enqueue_in_and_at(make_client, redis_url, r) -> None:
    clock = FakeClock(FAKE_NOW)
    client = make_client(redis_url, clock=clock)
    a = client.enqueue_in(Task("t"), timedelta(seconds=30))
    b = client.enqueue_at(Task("t"), datetime(2026, 2, 4, tzinfo=UTC))
    c = client.enqueue_at(Task("t"), FAKE_NOW + 90.5)
    past = client.enqueue_at(Task("t"), datetime(2026, 2, 2, tzinfo=UTC))
    assert (a.state, b.state, c.state) == (TaskState.SCHEDULED,) * 3
    assert_integer_score(r.zscore("asynq:{default}:scheduled", a.id), 1_770_076_830)
    assert_integer_score(r.zscore("asynq:{default}:scheduled", b.id), 1_770_163_200)
    assert_integer_score(r.zscore("asynq:{default}:scheduled", c.id), 1_770_076_891)
    # A time that is not in the future is enqueued now, like Go.
    assert past.state is TaskState.PENDING
    assert past.next_process_at == datetime.fromtimestamp(FAKE_NOW, UTC)
    assert r.lrange("asynq:{default}:pending", 0, -1) == [past.id.encode()]
    assert task_hash(r, "default", past.id)["pending_since"] == str(clock.now_ns()).encode()


def test_enqueue_unique_helper(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    info = client.enqueue_unique(Task("t", b"p"), 30, queue="q")
    assert info.state is TaskState.PENDING
    ukey = keys.unique_key("q", "t", b"p")
    assert r.get(ukey) == info.id.encode()
    assert 25 <= r.ttl(ukey) <= 30
    assert task_hash(r, "q", info.id)["unique_key"] == ukey.encode()


@pytest.mark.parametrize("qname", ["with space", "événements", "a:b"])
def test_unusual_queue_names(make_client, redis_url, r, qname: str) -> None:
    client = make_client(redis_url)
    info = client.enqueue(Task("t"), queue=qname)
    assert r.lrange(f"asynq:{{{qname}}}:pending", 0, -1) == [info.id.encode()]
    assert r.smembers("asynq:queues") == {qname.encode()}
    assert message(task_hash(r, qname, info.id)).queue == qname


def test_task_options_apply_and_enqueue_options_override(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    task = Task("t", queue="low", max_retry=1, timeout=10)
    first = client.enqueue(task)
    second = client.enqueue(task, queue="high", max_retry=9)
    m1 = message(task_hash(r, "low", first.id))
    m2 = message(task_hash(r, "high", second.id))
    assert (m1.queue, m1.retry, m1.timeout) == ("low", 1, 10)
    assert (m2.queue, m2.retry, m2.timeout) == ("high", 9, 10)
