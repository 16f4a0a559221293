"""Duplicate and id-conflict errors, the lock an id conflict leaves, and enqueue_many's partial
failures."""

from __future__ import annotations

import pytest
import redis

from asynq import (
    BrokerError,
    DuplicateTaskError,
    EnqueueManyError,
    FakeClock,
    Task,
    TaskIDConflictError,
    TaskState,
    ValidationError,
)
from asynq._base import keys
from tests.client.layout import all_keys, message, task_hash

UNIQUE_PATHS = [
    pytest.param({}, id="enqueue_unique"),
    pytest.param({"process_in": 300}, id="schedule_unique"),
    pytest.param({"group": "g"}, id="add_to_group_unique"),
]
PLAIN_PATHS = [
    pytest.param({}, id="enqueue"),
    pytest.param({"process_in": 300}, id="schedule"),
    pytest.param({"group": "g"}, id="add_to_group"),
]


@pytest.mark.parametrize("placement", UNIQUE_PATHS)
def test_duplicate_is_refused_and_writes_nothing(make_client, redis_url, r, placement) -> None:
    client = make_client(redis_url)
    first = client.enqueue(Task("t", b"p"), unique=60, **placement)
    before = {k: r.dump(k) for k in all_keys(r)}
    with pytest.raises(DuplicateTaskError, match="task already exists"):
        client.enqueue(Task("t", b"p"), unique=60, task_id="second", **placement)
    assert {k: r.dump(k) for k in all_keys(r)} == before
    assert r.get(keys.unique_key("default", "t", b"p")) == first.id.encode()


@pytest.mark.parametrize("placement", UNIQUE_PATHS)
def test_uniqueness_is_per_queue_type_and_payload(make_client, redis_url, placement) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"p"), unique=60, **placement)
    client.enqueue(Task("t", b"other"), unique=60, **placement)
    client.enqueue(Task("u", b"p"), unique=60, **placement)
    client.enqueue(Task("t", b"p"), unique=60, queue="other", **placement)
    # Headers and options do not count.
    with pytest.raises(DuplicateTaskError):
        client.enqueue(Task("t", b"p", headers={"h": "1"}), unique=3600, max_retry=1, **placement)


def test_duplicate_across_placements_shares_one_lock(make_client, redis_url) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"p"), unique=60)
    with pytest.raises(DuplicateTaskError):
        client.enqueue(Task("t", b"p"), unique=60, process_in=100)
    with pytest.raises(DuplicateTaskError):
        client.add_to_group(Task("t", b"p"), "g", unique=60)


def test_plain_enqueue_ignores_the_lock(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"p"), unique=60)
    client.enqueue(Task("t", b"p"))
    assert r.llen("asynq:{default}:pending") == 2


@pytest.mark.parametrize("placement", PLAIN_PATHS)
def test_task_id_conflict(make_client, redis_url, r, placement) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"first"), task_id="same", **placement)
    before = {k: r.dump(k) for k in all_keys(r)}
    with pytest.raises(TaskIDConflictError, match="task ID conflicts with another task"):
        client.enqueue(Task("t", b"second"), task_id="same", **placement)
    assert {k: r.dump(k) for k in all_keys(r)} == before
    assert message(task_hash(r, "default", "same")).payload == b"first"


def test_task_id_conflict_across_placements(make_client, redis_url) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t"), task_id="x")
    with pytest.raises(TaskIDConflictError):
        client.enqueue(Task("t"), task_id="x", process_in=60)
    with pytest.raises(TaskIDConflictError):
        client.add_to_group(Task("t"), "g", task_id="x")
    # The same id in another queue is another task.
    client.enqueue(Task("t"), task_id="x", queue="other")


@pytest.mark.parametrize("placement", UNIQUE_PATHS)
def test_conflicting_unique_enqueue_leaves_its_lock(make_client, redis_url, r, placement) -> None:
    # The lock is taken before the id check and is not released on a conflict
    # (docs/compatibility.md#quirk-unique-lock-kept-on-id-conflict).
    client = make_client(redis_url)
    client.enqueue(Task("t", b"old"), task_id="same")
    with pytest.raises(TaskIDConflictError):
        client.enqueue(Task("t", b"new"), task_id="same", unique=60, **placement)
    ukey = keys.unique_key("default", "t", b"new")
    assert r.get(ukey) == b"same"
    assert 0 < r.ttl(ukey) <= 60 + placement.get("process_in", 0)
    assert message(task_hash(r, "default", "same")).payload == b"old"
    with pytest.raises(DuplicateTaskError):
        client.enqueue(Task("t", b"new"), unique=60, **placement)


def test_lock_expiry_allows_the_task_again(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"p"), unique=60)
    r.delete(keys.unique_key("default", "t", b"p"))  # what expiry or a Go success does
    client.enqueue(Task("t", b"p"), unique=60)
    assert r.llen("asynq:{default}:pending") == 2


def test_validation_error_sends_nothing(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    with pytest.raises(ValidationError):
        client.enqueue(Task("t"), queue="bad{name}")
    with pytest.raises(ValidationError):
        client.enqueue(Task("t"), timeout=0.5)
    with pytest.raises(ValidationError):
        client.enqueue(Task("t"), no_such_option=1)
    with pytest.raises(ValidationError, match=r"expected an asynq\.Task"):
        client.enqueue("not a task")
    assert all_keys(r) == set()


def test_enqueue_many_mixed_placements(make_client, redis_url, r) -> None:
    client = make_client(redis_url, clock=FakeClock(1_770_076_800.5))
    infos = client.enqueue_many(
        [
            Task("a", b"1"),
            (Task("b", b"2"), {"process_in": 60, "queue": "low"}),
            (Task("c", b"3"), {"group": "g"}),
            (Task("d", b"4"), {"unique": 30}),
            (Task("e", b"5"), {"unique": 30, "process_in": 60}),
            (Task("f", b"6"), {"unique": 30, "group": "g"}),
        ],
        max_retry=4,
    )
    assert [i.state for i in infos] == [
        TaskState.PENDING,
        TaskState.SCHEDULED,
        TaskState.AGGREGATING,
        TaskState.PENDING,
        TaskState.SCHEDULED,
        TaskState.AGGREGATING,
    ]
    a, b, c, d, e, f = infos
    assert r.lrange("asynq:{default}:pending", 0, -1) == [d.id.encode(), a.id.encode()]
    assert r.zscore("asynq:{low}:scheduled", b.id) == 1_770_076_860
    assert r.zscore("asynq:{default}:scheduled", e.id) == 1_770_076_860
    assert dict(r.zrange("asynq:{default}:g:g", 0, -1, withscores=True)) == {
        c.id.encode(): 1_770_076_800.0,
        f.id.encode(): 1_770_076_800.0,
    }
    assert r.smembers("asynq:queues") == {b"default", b"low"}
    for info, state in zip(infos, [b"pending", b"scheduled", b"aggregating"] * 2, strict=True):
        fields = task_hash(r, info.queue, info.id)
        assert fields["state"] == state
        assert message(fields).retry == 4  # the shared option applied to every task
    assert set(task_hash(r, "default", d.id)) == {"msg", "state", "pending_since", "unique_key"}
    assert set(task_hash(r, "default", e.id)) == {"msg", "state", "unique_key"}
    assert set(task_hash(r, "default", f.id)) == {"msg", "state", "group"}
    for info in (d, e, f):
        assert r.get(keys.unique_key("default", info.type, info.payload)) == info.id.encode()


def test_enqueue_many_per_task_options_override_shared_ones(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    a, b = client.enqueue_many([Task("a"), (Task("b"), {"queue": "high"})], queue="low")
    assert (a.queue, b.queue) == ("low", "high")
    assert r.llen("asynq:{low}:pending") == 1 and r.llen("asynq:{high}:pending") == 1


def test_enqueue_many_partial_failure(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("x"), task_id="taken")
    client.enqueue(Task("u", b"p"), unique=60)
    with pytest.raises(EnqueueManyError) as caught:
        client.enqueue_many(
            [
                Task("ok1"),
                (Task("x"), {"task_id": "taken"}),
                (Task("ok2"), {"process_in": 60}),
                (Task("u", b"p"), {"unique": 60}),
                (Task("ok3"), {"group": "g"}),
            ]
        )
    err = caught.value
    assert str(err) == "2 of 5 tasks were not enqueued"
    assert [type(e) for e in err.errors] == [
        type(None),
        TaskIDConflictError,
        type(None),
        DuplicateTaskError,
        type(None),
    ]
    assert [i is None for i in err.infos] == [False, True, False, True, False]
    ok1, _, ok2, _, ok3 = err.infos
    assert ok1 is not None and ok2 is not None and ok3 is not None
    # The successful ones were written despite the failures.
    assert task_hash(r, "default", ok1.id)["state"] == b"pending"
    assert task_hash(r, "default", ok2.id)["state"] == b"scheduled"
    assert task_hash(r, "default", ok3.id)["state"] == b"aggregating"
    assert (ok1.state, ok2.state, ok3.state) == (
        TaskState.PENDING,
        TaskState.SCHEDULED,
        TaskState.AGGREGATING,
    )
    assert r.llen("asynq:{default}:pending") == 3  # x, u and ok1


def test_enqueue_many_validation_error_sends_nothing(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    with pytest.raises(ValidationError):
        client.enqueue_many([Task("a"), (Task("b"), {"queue": ""})])
    assert all_keys(r) == set()


def test_enqueue_many_empty(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    assert client.enqueue_many([]) == []
    assert all_keys(r) == set()


def test_enqueue_many_accepts_any_iterable(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    infos = client.enqueue_many(Task("t", str(i).encode()) for i in range(50))
    assert len(infos) == 50 and len({i.id for i in infos}) == 50
    assert r.llen("asynq:{default}:pending") == 50


def test_redis_error_reply_is_a_broker_error(make_client, redis_url, r) -> None:
    # A key of the wrong type makes the script fail inside Redis (WRONGTYPE).
    r.set("asynq:{default}:pending", "not a list")
    client = make_client(redis_url)
    with pytest.raises(BrokerError, match="WRONGTYPE") as caught:
        client.enqueue(Task("t"))
    assert not isinstance(caught.value, redis.RedisError)
    with pytest.raises(EnqueueManyError) as many:
        client.enqueue_many([Task("t"), (Task("t"), {"queue": "fine"})])
    first, second = many.value.errors
    assert isinstance(first, BrokerError) and not isinstance(first, redis.RedisError)
    assert second is None
    assert r.llen("asynq:{fine}:pending") == 1


@pytest.mark.parametrize("many", [False, True], ids=["enqueue", "enqueue_many"])
def test_enqueue_after_script_flush(make_client, redis_url, r, many: bool) -> None:
    # EVALSHA answers NOSCRIPT once the server forgot the scripts; the client must resend them.
    client = make_client(redis_url)
    client.enqueue(Task("warm-up"))
    r.script_flush()
    if many:
        infos = client.enqueue_many(
            [Task("a"), (Task("b"), {"unique": 60}), (Task("c"), {"group": "g"})]
        )
        assert [i.state for i in infos] == [
            TaskState.PENDING,
            TaskState.PENDING,
            TaskState.AGGREGATING,
        ]
    else:
        client.enqueue(Task("a"), process_in=60)
        assert r.zcard("asynq:{default}:scheduled") == 1
    assert r.llen("asynq:{default}:pending") == (3 if many else 1)
