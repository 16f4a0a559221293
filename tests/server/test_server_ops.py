"""The worker-side scripts, run through both drivers, checked against Go's effects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

import asynq
from asynq._base import keys
from asynq._base.codec import TaskMessage, decode_message, encode_message
from asynq._broker.calls import Op, ReplyError
from asynq._broker.drivers import AsyncDriver, SyncDriver
from asynq._broker.ops import aggregation_ops, server_ops

Q = "default"


@pytest.fixture(params=["sync", "async"])
def run_op(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Callable[[Op[Any]], Any]]:
    """Run an op under the sync or the async driver (each on its own connection)."""
    if request.param == "sync":
        sync = SyncDriver(redis.Redis.from_url(redis_url))
        yield sync.run
        sync.close()
        return
    loop = asyncio.new_event_loop()
    driver = loop.run_until_complete(_make_async(redis_url))
    yield lambda op: loop.run_until_complete(driver.run(op))
    loop.run_until_complete(driver.close())
    loop.close()


async def _make_async(url: str) -> AsyncDriver:
    import redis.asyncio

    return AsyncDriver(redis.asyncio.Redis.from_url(url))


def enqueue(client: asynq.Client, n: int = 1, **opts: Any) -> list[str]:
    return [client.enqueue(asynq.Task("t", f"{i}".encode()), **opts).id for i in range(n)]


def test_dequeue_batch_effects(run_op, client, r):
    ids = enqueue(client, 3)
    now = time.time()
    taken = run_op(server_ops.dequeue(Q, 2, now))
    assert [(t.id.decode(), t.kind) for t in taken] == [(ids[0], "hash"), (ids[1], "hash")]
    msgs = [decode_message(t.data) for t in taken]
    assert [m.id for m in msgs] == ids[:2]  # oldest first (RPOPLPUSH from the right)
    assert r.lrange(keys.pending_key(Q), 0, -1) == [ids[2].encode()]
    assert r.lrange(keys.active_key(Q), 0, -1) == [ids[1].encode(), ids[0].encode()]
    for tid in ids[:2]:
        assert r.hget(keys.task_key(Q, tid), "state") == b"active"
        assert r.hget(keys.task_key(Q, tid), "pending_since") is None
        assert r.zscore(keys.lease_key(Q), tid) == int(now + 30)
    assert [decode_message(t.data).id for t in run_op(server_ops.dequeue(Q, 5, now))] == ids[2:]
    assert run_op(server_ops.dequeue(Q, 5, now)) == []


def test_dequeue_skips_paused_queue(run_op, client, r):
    enqueue(client, 1)
    r.set(keys.paused_key(Q), 1)
    assert run_op(server_ops.dequeue(Q, 1, time.time())) == []
    assert r.llen(keys.pending_key(Q)) == 1


def test_dequeue_of_vanished_hash_leases_it_like_go_and_reports_it(run_op, client, r):
    (tid,) = enqueue(client, 1)
    r.delete(keys.task_key(Q, tid))
    assert run_op(server_ops.dequeue(Q, 1, time.time())) == [
        server_ops.Taken(tid.encode(), None, "none")
    ]
    assert r.lrange(keys.active_key(Q), 0, -1) == [tid.encode()]
    assert r.zscore(keys.lease_key(Q), tid) is not None
    assert not r.exists(keys.task_key(Q, tid))  # not recreated as a hash holding only a state


def test_dequeue_of_foreign_task_key_moves_the_whole_batch(run_op, client, r):
    ids = enqueue(client, 3)
    r.delete(keys.task_key(Q, ids[1]))
    r.set(keys.task_key(Q, ids[1]), "foreign")
    taken = run_op(server_ops.dequeue(Q, 3, time.time()))
    assert [(t.id.decode(), t.kind) for t in taken] == [
        (ids[0], "hash"),
        (ids[1], "string"),
        (ids[2], "hash"),
    ]
    assert r.llen(keys.active_key(Q)) == 3 and r.zcard(keys.lease_key(Q)) == 3
    assert r.get(keys.task_key(Q, ids[1])) == b"foreign"


def test_dequeue_with_a_foreign_active_key_moves_nothing(run_op, client, r):
    enqueue(client, 2)
    r.set(keys.lease_key(Q), "foreign")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        run_op(server_ops.dequeue(Q, 2, time.time()))
    assert r.llen(keys.pending_key(Q)) == 2 and not r.exists(keys.active_key(Q))


def test_dequeue_registers_for_handoff_only_with_a_slot_left(run_op, client, r):
    me = server_ops.HandoffRegistration("asynq:handoff:me", ttl=2.0)
    slow = server_ops.HandoffRegistration("asynq:handoff:slow", ttl=61.0)
    handoff = keys.handoff_key(Q)
    enqueue(client, 2)
    now = time.time()
    # Two slots, two tasks: none left, so no registration.
    assert len(run_op(server_ops.dequeue(Q, 2, now, me))) == 2
    assert not r.exists(handoff)
    # Queue empty, slots free: registered until now + ttl; the key lives as long.
    assert run_op(server_ops.dequeue(Q, 3, now, me)) == []
    assert r.zscore(handoff, me.channel) == int(now * 1000) + 2000
    assert 0 < r.pttl(handoff) <= 2000
    # A worker with a longer interval lengthens the key's life; a shorter one never cuts it.
    run_op(server_ops.dequeue(Q, 1, now, slow))
    run_op(server_ops.dequeue(Q, 1, now, me))
    assert r.pttl(handoff) > 60_000
    # Nobody listens on these channels: an enqueue uses both registrations up, hands nothing.
    enqueue(client, 1)
    assert not r.exists(handoff)
    # A dequeue that fills the worker's last slot withdraws its registration.
    r.zadd(handoff, {me.channel: int(now * 1000) + 2000, slow.channel: int(now * 1000) + 2000})
    assert len(run_op(server_ops.dequeue(Q, 1, now, me))) == 1
    assert r.zrange(handoff, 0, -1) == [slow.channel.encode()]
    run_op(server_ops.withdraw_handoff([Q, "other"], slow.channel))
    assert not r.exists(handoff)


def test_outcome_scripts_refuse_tasks_not_active(run_op, client, r):
    (tid,) = enqueue(client, 1)
    msg = decode_message(r.hget(keys.task_key(Q, tid), "msg"))
    now = time.time()
    for call in [
        server_ops.done_call(msg, now),
        server_ops.mark_as_complete_call(msg, now),
        server_ops.requeue_call(msg),
        server_ops.retry_call(msg, now + 10, "e", True, now),
        server_ops.archive_call(msg, "e", now),
    ]:
        with pytest.raises(ReplyError, match="NOT FOUND"):
            run_op(server_ops.run_call(call))
    assert r.hget(keys.task_key(Q, tid), "state") == b"pending"


def test_archive_trims_by_size_and_age(run_op, client, r):
    """After a server-side archive the set never exceeds 9 999, and tasks older than 90 days
    go; trimmed tasks lose their hashes (docs/compatibility.md#quirk-archive-size-limit)."""
    now = time.time()
    pipe = r.pipeline(transaction=False)
    old_score = int(now) - 91 * 24 * 3600
    pipe.zadd(keys.archived_key(Q), {"ancient": old_score})
    pipe.hset(keys.task_key(Q, "ancient"), "state", "archived")
    members = {f"a{i:05d}": int(now) - 1000 + i // 100 for i in range(9_999)}
    pipe.zadd(keys.archived_key(Q), members)
    for tid in ("a00000", "a00001"):
        pipe.hset(keys.task_key(Q, tid), "state", "archived")
    pipe.execute()
    (tid,) = enqueue(client, 1)
    (taken,) = run_op(server_ops.dequeue(Q, 1, now))
    data = taken.data
    run_op(server_ops.run_call(server_ops.archive_call(decode_message(data), "boom", now)))
    assert r.zcard(keys.archived_key(Q)) == 9_999
    assert r.zscore(keys.archived_key(Q), "ancient") is None
    assert not r.exists(keys.task_key(Q, "ancient"))
    # 10 000 left after the age trim: the oldest one goes, with its hash.
    assert r.zscore(keys.archived_key(Q), "a00000") is None
    assert not r.exists(keys.task_key(Q, "a00000"))
    assert r.exists(keys.task_key(Q, "a00001"))
    assert r.zscore(keys.archived_key(Q), tid) == int(now)
    assert r.hget(keys.task_key(Q, tid), "state") == b"archived"


def test_mark_as_complete_twice_is_internal_error(run_op, client, r):
    (tid,) = enqueue(client, 1, retention=60)
    now = time.time()
    msg = decode_message(run_op(server_ops.dequeue(Q, 1, now))[0].data)
    r.zadd(keys.completed_key(Q), {tid: 1})
    with pytest.raises(ReplyError, match="INTERNAL"):
        run_op(server_ops.run_call(server_ops.mark_as_complete_call(msg, now)))


def test_forward_moves_due_tasks(run_op, client, r):
    now = time.time()
    sched = client.enqueue(asynq.Task("s", b""), process_in=100).id
    later = client.enqueue(asynq.Task("s", b"2"), process_in=1000).id
    r.zadd(keys.retry_key(Q), {"retry1": int(now)})
    r.hset(keys.task_key(Q, "retry1"), mapping={"state": "retry", "msg": b""})
    r.zadd(keys.retry_key(Q), {"grouped": int(now)})
    r.hset(keys.task_key(Q, "grouped"), mapping={"state": "retry", "group": "g1"})
    moved = run_op(server_ops.forward_if_ready([Q], now + 200, int((now + 200) * 1e9)))
    assert moved == 3
    assert set(r.lrange(keys.pending_key(Q), 0, -1)) == {sched.encode(), b"retry1"}
    for tid in (sched, "retry1"):
        assert r.hget(keys.task_key(Q, tid), "state") == b"pending"
        assert int(r.hget(keys.task_key(Q, tid), "pending_since")) == int((now + 200) * 1e9)
    assert r.zscore(keys.group_key(Q, "g1"), "grouped") == int(now + 200)
    assert r.hget(keys.task_key(Q, "grouped"), "state") == b"aggregating"
    # docs/compatibility.md#quirk-forward-skips-groups-set
    assert not r.sismember(keys.groups_key(Q), "g1")
    assert r.zrange(keys.scheduled_key(Q), 0, -1) == [later.encode()]
    assert r.zcard(keys.retry_key(Q)) == 0


def test_forward_loops_past_the_batch_of_100(run_op, client, r):
    now = time.time()
    for i in range(230):
        client.enqueue(asynq.Task("s", f"{i}".encode()), process_in=10)
    assert run_op(server_ops.forward_if_ready([Q], now + 20, int((now + 20) * 1e9))) == 230
    assert r.llen(keys.pending_key(Q)) == 230


def test_list_lease_expired(run_op, client, r):
    ids = enqueue(client, 3)
    now = time.time()
    run_op(server_ops.dequeue(Q, 3, now))
    r.zadd(keys.lease_key(Q), {ids[0]: int(now) - 40, ids[1]: int(now) - 40, ids[2]: int(now)})
    r.delete(keys.task_key(Q, ids[1]))  # Go skips ids without a hash; they are reported here
    found = run_op(server_ops.list_lease_expired(Q, now - 30))
    by_id = {t.id.decode(): t for t in found}  # equal scores: ordered by id
    assert sorted(by_id) == sorted(ids[:2])
    assert (by_id[ids[0]].kind, decode_message(by_id[ids[0]].data).id) == ("hash", ids[0])
    assert (by_id[ids[1]].kind, by_id[ids[1]].data) == ("none", None)


def test_delete_expired_completed_in_batches(run_op, r):
    now = int(time.time())
    for i in range(5):
        r.zadd(keys.completed_key(Q), {f"c{i}": now - 1})
        r.hset(keys.task_key(Q, f"c{i}"), "state", "completed")
    r.zadd(keys.completed_key(Q), {"future": now + 100})
    r.hset(keys.task_key(Q, "future"), "state", "completed")
    assert run_op(server_ops.delete_expired_completed(Q, now, 2)) == 5
    assert r.zrange(keys.completed_key(Q), 0, -1) == [b"future"]
    assert r.exists(keys.task_key(Q, "future"))
    assert not r.exists(keys.task_key(Q, "c0"))


def _group(r: redis.Redis, group: str, scores: dict[str, int]) -> None:
    r.zadd(keys.group_key(Q, group), scores)
    r.sadd(keys.groups_key(Q), group)
    for tid in scores:
        msg = TaskMessage(type="g", payload=tid.encode(), id=tid, queue=Q, group_key=group)
        r.hset(keys.task_key(Q, tid), mapping={"msg": encode_message(msg), "state": "aggregating"})


@pytest.mark.parametrize(
    ("scores", "grace", "max_delay", "max_size", "moved", "left"),
    [
        pytest.param({"a": 90, "b": 94}, 10, 0, 0, 2, 0, id="grace-passed"),
        pytest.param({"a": 90, "b": 95}, 10, 0, 0, 2, 0, id="grace-passed-exactly"),
        pytest.param({"a": 90, "b": 99}, 10, 0, 0, 0, 2, id="grace-not-passed"),
        pytest.param({"a": 50, "b": 99}, 10, 40, 0, 2, 0, id="max-delay"),
        pytest.param({"a": 90, "b": 91, "c": 99}, 10, 0, 2, 2, 1, id="max-size"),
        pytest.param({"a": 90, "b": 91}, 100, 0, 2, 2, 0, id="exactly-max-size"),
    ],
)
def test_aggregation_check(run_op, r, scores, grace, max_delay, max_size, moved, left):
    _group(r, "g", scores)
    set_id = run_op(aggregation_ops.aggregation_check(Q, "g", 105, grace, max_delay, max_size, 100))
    assert r.zcard(keys.group_key(Q, "g")) == left
    assert r.sismember(keys.groups_key(Q), "g") == (left > 0)
    if not moved:
        assert set_id == ""
        return
    set_key = keys.aggregation_set_key(Q, "g", set_id)
    assert r.zcard(set_key) == moved
    assert r.zscore(keys.all_aggregation_sets(Q), set_key) == 100 + 120
    oldest = sorted(scores, key=scores.__getitem__)[:moved]
    assert {m.decode(): s for m, s in r.zrange(set_key, 0, -1, withscores=True)} == {
        k: scores[k] for k in oldest
    }
    msgs, deadline = run_op(aggregation_ops.read_aggregation_set(Q, "g", set_id))
    assert [m.id for m in msgs] == oldest and deadline == 220
    run_op(aggregation_ops.delete_aggregation_set(Q, "g", set_id))
    assert not r.exists(set_key)
    assert r.zcard(keys.all_aggregation_sets(Q)) == 0
    assert not any(r.exists(keys.task_key(Q, tid)) for tid in oldest)


def test_reclaim_stale_aggregation_sets(run_op, r):
    _group(r, "g", {"a": 90, "b": 91})
    set_id = run_op(aggregation_ops.aggregation_check(Q, "g", 200, 10, 0, 0, 100))
    set_key = keys.aggregation_set_key(Q, "g", set_id)
    run_op(aggregation_ops.reclaim_stale_aggregation_sets(Q, 219))  # deadline 220: not yet
    assert r.exists(set_key)
    run_op(aggregation_ops.reclaim_stale_aggregation_sets(Q, 220))
    assert not r.exists(set_key)
    assert r.zcard(keys.all_aggregation_sets(Q)) == 0
    assert r.zrange(keys.group_key(Q, "g"), 0, -1, withscores=True) == [(b"a", 90), (b"b", 91)]
    # docs/compatibility.md#quirk-forward-skips-groups-set
    assert not r.sismember(keys.groups_key(Q), "g")
