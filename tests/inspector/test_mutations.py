"""Inspector calls that change Redis: the raw keys before and after each one (fake clock)."""

from __future__ import annotations

import pytest

import asynq
from asynq._base import keys
from asynq._base.codec import decode_message, encode_message
from tests.helpers import seed
from tests.inspector._scenario import python_scenario
from tests.inspector.conftest import NOW, NOW_SEC

Q = "pq"
DAY = 86_400


@pytest.fixture
def sc(r, redis_url):
    return python_scenario(r, redis_url, NOW, queue=Q)


def task_hash(r, tid: str) -> dict[bytes, bytes]:
    return r.hgetall(keys.task_key(Q, tid))


def members(r, key: str) -> list[str]:
    return [m.decode() for m in r.zrange(key, 0, -1)]


def pending_list(r) -> list[str]:
    return [m.decode() for m in r.lrange(keys.pending_key(Q), 0, -1)]


# ---- run_task ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["scheduled", "retry", "archived", "completed"])
def test_run_task_moves_a_zset_task_to_the_head_of_pending(insp, r, sc, state):
    tid = getattr(sc, state)[0]
    before = task_hash(r, tid)
    insp.run_task(Q, tid)
    assert tid not in members(r, f"asynq:{{{Q}}}:{state}")
    assert pending_list(r)[0] == tid  # LPUSH: the newest end, like an enqueue
    after = task_hash(r, tid)
    # The message is untouched, retried and error kept
    # (docs/compatibility.md#quirk-run-keeps-retry-state), and there is no pending_since
    # (docs/compatibility.md#quirk-pending-since-not-restored).
    assert after == {**before, b"state": b"pending"}
    assert insp.get_task_info(Q, tid).state is asynq.TaskState.PENDING


def test_run_task_keeps_retry_count_and_error(insp, r, sc):
    insp.run_task(Q, sc.retry[0])
    msg = decode_message(task_hash(r, sc.retry[0])[b"msg"])
    assert (msg.retried, msg.error_msg) == (3, "smtp down")


def test_run_task_of_an_aggregating_task_empties_its_group(insp, r, sc):
    insp.run_task(Q, sc.groups["g1"][0])
    assert members(r, keys.group_key(Q, "g1")) == sc.groups["g1"][1:]
    assert r.smembers(keys.groups_key(Q)) == {b"g1", b"g2"}
    only = sc.groups["g2"][0]
    insp.run_task(Q, only)
    assert not r.exists(keys.group_key(Q, "g2"))
    assert r.smembers(keys.groups_key(Q)) == {b"g1"}
    # The group field stays on the hash, as in Go.
    assert task_hash(r, only)[b"group"] == b"g2"
    assert pending_list(r)[0] == only


def test_run_task_publishes_the_id_to_wake_workers(insp, r, sc):
    sub = r.pubsub()
    sub.subscribe(keys.pending_key(Q))
    sub.get_message(timeout=1)  # the subscribe confirmation
    insp.run_task(Q, sc.scheduled[0])
    message = sub.get_message(timeout=2)
    assert message is not None
    assert message["data"] == sc.scheduled[0].encode()
    sub.close()


def test_run_task_refusals_change_nothing(insp, r, sc):
    before = r.lrange(keys.pending_key(Q), 0, -1)
    with pytest.raises(asynq.TaskAlreadyPendingError):
        insp.run_task(Q, sc.pending[0])
    with pytest.raises(asynq.TaskAlreadyRunningError):
        insp.run_task(Q, sc.active[0])
    with pytest.raises(asynq.TaskNotFoundError):
        insp.run_task(Q, "missing")
    with pytest.raises(asynq.QueueNotFoundError):
        insp.run_task("nope", sc.scheduled[0])
    assert r.lrange(keys.pending_key(Q), 0, -1) == before
    assert task_hash(r, sc.active[0])[b"state"] == b"active"


# ---- archive_task --------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["pending", "scheduled", "retry", "completed"])
def test_archive_task_scores_it_now(insp, r, sc, state):
    tid = getattr(sc, state)[0]
    before = task_hash(r, tid)
    insp.archive_task(Q, tid)
    source = keys.pending_key(Q) if state == "pending" else f"asynq:{{{Q}}}:{state}"
    if state == "pending":
        assert tid not in pending_list(r)
    else:
        assert tid not in members(r, source)
    assert r.zscore(keys.archived_key(Q), tid) == NOW_SEC
    # Only the state changes; the message keeps its (lack of) error, as in Go.
    assert task_hash(r, tid) == {**before, b"state": b"archived"}


def test_archive_task_of_the_last_group_member_removes_the_group(insp, r, sc):
    insp.archive_task(Q, sc.groups["g2"][0])
    assert r.smembers(keys.groups_key(Q)) == {b"g1"}
    assert r.zscore(keys.archived_key(Q), sc.groups["g2"][0]) == NOW_SEC


def test_archive_task_refusals(insp, r, sc):
    with pytest.raises(asynq.TaskAlreadyArchivedError):
        insp.archive_task(Q, sc.archived[0])
    with pytest.raises(asynq.TaskAlreadyRunningError):
        insp.archive_task(Q, sc.active[0])
    with pytest.raises(asynq.TaskNotFoundError):
        insp.archive_task(Q, "missing")
    assert task_hash(r, sc.active[0])[b"state"] == b"active"


def test_archiving_trims_old_and_excess_entries_but_keeps_their_hashes(insp, r, sc):
    # The Inspector's archive trims like the server's, without deleting hashes
    # (docs/compatibility.md#quirk-archive-size-limit).
    old = seed.archived(r, seed.message(queue=Q), archived_at=NOW_SEC - 91 * DAY)
    insp.archive_task(Q, sc.pending[0])
    assert r.zscore(keys.archived_key(Q), old) is None
    assert r.exists(keys.task_key(Q, old))

    r.zadd(keys.archived_key(Q), {f"filler-{i}": NOW_SEC - 10 - i for i in range(10_000)})
    insp.archive_task(Q, sc.pending[1])
    assert r.zcard(keys.archived_key(Q)) == 9_999
    assert r.zscore(keys.archived_key(Q), sc.pending[1]) == NOW_SEC


# ---- delete_task ---------------------------------------------------------------------------


def test_delete_task_removes_hash_and_releases_own_lock(insp, r, sc):
    tid = sc.unique_scheduled
    lock = task_hash(r, tid)[b"unique_key"].decode()
    assert r.get(lock) == tid.encode()
    insp.delete_task(Q, tid)
    assert not r.exists(keys.task_key(Q, tid))
    assert tid not in members(r, keys.scheduled_key(Q))
    assert not r.exists(lock)


def test_delete_task_keeps_a_lock_held_by_another_task(insp, r, sc):
    tid = sc.unique_scheduled
    lock = task_hash(r, tid)[b"unique_key"].decode()
    r.set(lock, "someone-else")
    insp.delete_task(Q, tid)
    assert r.get(lock) == b"someone-else"


def test_delete_task_in_other_states(insp, r, sc):
    insp.delete_task(Q, sc.pending[2])
    assert sc.pending[2] not in pending_list(r)
    insp.delete_task(Q, sc.groups["g2"][0])
    assert r.smembers(keys.groups_key(Q)) == {b"g1"}
    for tid in (sc.retry[0], sc.archived[0], sc.completed[0]):
        insp.delete_task(Q, tid)
        assert not r.exists(keys.task_key(Q, tid))
    with pytest.raises(asynq.TaskAlreadyRunningError):
        insp.delete_task(Q, sc.active[0])
    with pytest.raises(asynq.TaskNotFoundError):
        insp.delete_task(Q, sc.pending[2])
    assert r.exists(keys.task_key(Q, sc.active[0]))


# ---- update_task_payload -------------------------------------------------------------------


def test_update_task_payload_rewrites_only_the_message(insp, r, sc):
    tid = sc.scheduled[3]
    before = task_hash(r, tid)
    info = insp.update_task_payload(Q, tid, b"new payload")
    after = task_hash(r, tid)
    assert {k: v for k, v in after.items() if k != b"msg"} == {
        k: v for k, v in before.items() if k != b"msg"
    }
    old_msg, new_msg = decode_message(before[b"msg"]), decode_message(after[b"msg"])
    old_msg.payload = b"new payload"
    assert new_msg == old_msg
    assert info == insp.get_task_info(Q, tid)
    assert (info.payload, info.headers, info.state) == (
        b"new payload",
        {"trace": "abc"},
        asynq.TaskState.SCHEDULED,
    )


def test_update_task_payload_drops_fields_go_does_not_know(insp, r, sc):
    tid = sc.scheduled[0]
    key = keys.task_key(Q, tid)
    # Field 99 (varint 7) is unknown to Go; Go's struct round trip loses it.
    original = r.hget(key, "msg")
    r.hset(key, "msg", original + bytes([0x98, 0x06, 0x07]))
    insp.update_task_payload(Q, tid, b"x")
    expected = decode_message(original)
    expected.payload = b"x"
    assert r.hget(key, "msg") == encode_message(expected)


def test_update_task_payload_only_for_scheduled_tasks(insp, r, sc):
    before = task_hash(r, sc.retry[0])
    with pytest.raises(asynq.FailedPreconditionError):
        insp.update_task_payload(Q, sc.retry[0], b"x")
    assert task_hash(r, sc.retry[0]) == before
    with pytest.raises(asynq.TaskNotFoundError):
        insp.update_task_payload(Q, "missing", b"x")
    with pytest.raises(asynq.QueueNotFoundError):
        insp.update_task_payload("nope", sc.scheduled[0], b"x")


# ---- bulk ----------------------------------------------------------------------------------


def test_delete_all_pending_keeps_locks(insp, r, sc):
    lock = task_hash(r, sc.pending[-1])[b"unique_key"]
    assert insp.delete_all_pending_tasks(Q) == 6
    assert not r.exists(keys.pending_key(Q))
    assert not any(r.exists(keys.task_key(Q, t)) for t in sc.pending)
    assert r.get(lock) == sc.pending[-1].encode()  # as in Go: not released


def test_delete_all_scheduled_releases_locks(insp, r, sc):
    lock = task_hash(r, sc.unique_scheduled)[b"unique_key"]
    assert insp.delete_all_scheduled_tasks(Q) == 4
    assert not r.exists(keys.scheduled_key(Q), lock)
    assert not any(r.exists(keys.task_key(Q, t)) for t in sc.scheduled)


@pytest.mark.parametrize("state", ["retry", "archived", "completed"])
def test_delete_all_of_a_zset_state(insp, r, sc, state):
    call = getattr(insp, f"delete_all_{state}_tasks")
    assert call(Q) == 2
    assert not r.exists(f"asynq:{{{Q}}}:{state}")
    assert not any(r.exists(keys.task_key(Q, t)) for t in getattr(sc, state))
    assert call(Q) == 0


def test_delete_all_aggregating(insp, r, sc):
    assert insp.delete_all_aggregating_tasks(Q, "g1") == 3
    assert not r.exists(keys.group_key(Q, "g1"))
    assert r.smembers(keys.groups_key(Q)) == {b"g2"}
    assert insp.delete_all_aggregating_tasks(Q, "g1") == 0


@pytest.mark.parametrize("state", ["scheduled", "retry", "archived"])
def test_run_all_pushes_in_score_order(insp, r, sc, state):
    ids = getattr(sc, state)
    assert getattr(insp, f"run_all_{state}_tasks")(Q) == len(ids)
    assert not r.exists(f"asynq:{{{Q}}}:{state}")
    # LPUSH in ascending score order: the lowest score ends up nearest the consuming end.
    assert pending_list(r)[: len(ids)] == list(reversed(ids))
    assert all(task_hash(r, t)[b"state"] == b"pending" for t in ids)
    assert all(b"pending_since" not in task_hash(r, t) for t in ids)


def test_run_all_aggregating_removes_the_group(insp, r, sc):
    assert insp.run_all_aggregating_tasks(Q, "g1") == 3
    assert r.smembers(keys.groups_key(Q)) == {b"g2"}
    assert pending_list(r)[:3] == list(reversed(sc.groups["g1"]))


@pytest.mark.parametrize("state", ["pending", "scheduled", "retry"])
def test_archive_all_scores_everything_now(insp, r, sc, state):
    ids = getattr(sc, state)
    assert getattr(insp, f"archive_all_{state}_tasks")(Q) == len(ids)
    source = keys.pending_key(Q) if state == "pending" else f"asynq:{{{Q}}}:{state}"
    assert not r.exists(source)
    assert all(r.zscore(keys.archived_key(Q), t) == NOW_SEC for t in ids)
    assert all(task_hash(r, t)[b"state"] == b"archived" for t in ids)


def test_archive_all_aggregating_and_trimming(insp, r, sc):
    old = seed.archived(r, seed.message(queue=Q), archived_at=NOW_SEC - 100 * DAY)
    assert insp.archive_all_aggregating_tasks(Q, "g1") == 3
    assert r.smembers(keys.groups_key(Q)) == {b"g2"}
    assert r.zscore(keys.archived_key(Q), old) is None
    assert r.exists(keys.task_key(Q, old))  # docs/compatibility.md#quirk-archive-size-limit
    assert insp.archive_all_aggregating_tasks(Q, "g1") == 0


def test_bulk_calls_check_the_queue(insp, r):
    seed.scheduled(r, seed.message(queue="ghost"), process_at=NOW_SEC)
    for call in (
        insp.delete_all_pending_tasks,
        insp.delete_all_scheduled_tasks,
        insp.run_all_scheduled_tasks,
        insp.archive_all_scheduled_tasks,
        insp.archive_all_pending_tasks,
    ):
        with pytest.raises(asynq.QueueNotFoundError):
            call("ghost")
    with pytest.raises(asynq.QueueNotFoundError):
        insp.run_all_aggregating_tasks("ghost", "g")
    assert r.zcard(keys.scheduled_key("ghost")) == 1


# ---- queues --------------------------------------------------------------------------------


def test_pause_and_unpause(insp, r):
    # Go does not check that the queue exists before pausing.
    insp.pause_queue("anything")
    assert r.get(keys.paused_key("anything")) == str(NOW_SEC).encode()
    assert r.ttl(keys.paused_key("anything")) == -1
    with pytest.raises(asynq.QueueAlreadyPausedError):
        insp.pause_queue("anything")
    insp.unpause_queue("anything")
    assert not r.exists(keys.paused_key("anything"))
    with pytest.raises(asynq.QueueNotPausedError):
        insp.unpause_queue("anything")


def test_delete_queue_refuses_a_non_empty_queue(insp, r, sc):
    with pytest.raises(asynq.QueueNotEmptyError):
        insp.delete_queue(Q)
    with pytest.raises(asynq.FailedPreconditionError):
        insp.delete_queue(Q, force=True)  # active tasks
    assert Q.encode() in r.smembers(keys.ALL_QUEUES)


def test_delete_queue_force_leaves_what_go_leaves(insp, r, sc):
    r.delete(keys.active_key(Q))
    for tid in sc.active:
        r.delete(keys.task_key(Q, tid))
    r.set(keys.paused_key(Q), 1)
    insp.delete_queue(Q, force=True)
    assert Q.encode() not in r.smembers(keys.ALL_QUEUES)
    for name in ("pending", "active", "scheduled", "retry", "archived", "lease"):
        assert not r.exists(f"asynq:{{{Q}}}:{name}")
    for tid in sc.pending + sc.scheduled + sc.retry + sc.archived:
        assert not r.exists(keys.task_key(Q, tid))
    # Completed and aggregating tasks, groups, paused, counters, locks stay
    # (docs/compatibility.md#quirk-remove-queue-leftovers).
    for tid in sc.completed + sc.groups["g1"]:
        assert r.exists(keys.task_key(Q, tid))
    for key in (keys.completed_key(Q), keys.groups_key(Q), keys.paused_key(Q)):
        assert r.exists(key)
    assert r.exists(keys.processed_total_key(Q))
    with pytest.raises(asynq.QueueNotFoundError):
        insp.delete_queue(Q)


def test_delete_queue_ignores_completed_and_aggregating_tasks(insp, r, redis_url):
    # A queue holding only completed or aggregating tasks counts as empty
    # (docs/compatibility.md#quirk-remove-queue-leftovers).
    seed.register(r, "side")
    done = seed.completed(r, seed.message(queue="side", completed_at=NOW_SEC, retention=60))
    insp.delete_queue("side")
    assert r.smembers(keys.ALL_QUEUES) == set()
    assert r.exists(keys.task_key("side", done))


def test_cancel_processing_publishes_the_id(insp, r):
    sub = r.pubsub()
    sub.subscribe(keys.CANCEL_CHANNEL)
    sub.get_message(timeout=1)
    insp.cancel_processing("task-123")
    message = sub.get_message(timeout=2)
    assert message is not None
    assert (message["channel"], message["data"]) == (b"asynq:cancel", b"task-123")
    sub.close()
