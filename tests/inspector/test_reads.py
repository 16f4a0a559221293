"""Read-only Inspector calls on a known Redis state (fake clock): what each call reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import asynq
from asynq._snapshots import DailyStats, GroupInfo
from tests.helpers import seed
from tests.inspector._scenario import python_scenario
from tests.inspector.conftest import NOW, NOW_SEC

NOW_DT = datetime.fromtimestamp(NOW, UTC)


def at(sec: int) -> datetime:
    return datetime.fromtimestamp(sec, UTC)


def ids(infos: list[asynq.TaskInfo]) -> list[str]:
    return [i.id for i in infos]


def test_queues_are_the_registered_names_sorted(insp, r):
    assert insp.queues() == []
    seed.register(r, "beta", "alpha", "gamma")
    r.lpush("asynq:{unregistered}:pending", "x")
    assert insp.queues() == ["alpha", "beta", "gamma"]


def test_queue_info_counts_every_state(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    info = insp.get_queue_info(sc.queue)
    assert info.queue == sc.queue
    assert (info.pending, info.active, info.scheduled, info.retry) == (6, 3, 4, 2)
    assert (info.archived, info.completed, info.aggregating, info.groups) == (2, 2, 4, 2)
    assert info.size == 6 + 3 + 4 + 2 + 2 + 2 + 4
    assert (info.processed, info.failed) == (7, 2)
    assert (info.processed_total, info.failed_total) == (100, 20)
    assert info.paused is False
    # The oldest pending task was enqueued 50 s before "now".
    assert info.latency == timedelta(seconds=50)
    assert info.timestamp == NOW_DT
    assert info.memory_usage > 0

    r.set(f"asynq:{{{sc.queue}}}:paused", NOW_SEC)
    assert insp.get_queue_info(sc.queue).paused is True


def test_empty_registered_queue_has_zero_everything(insp, r):
    seed.register(r, "empty")
    info = insp.get_queue_info("empty")
    assert (info.size, info.pending, info.groups, info.memory_usage) == (0, 0, 0, 0)
    assert info.latency == timedelta(0)


def test_latency_is_zero_when_the_oldest_pending_task_has_no_pending_since(insp, r):
    # RunTask/requeue do not set pending_since; Go then reports no latency at all
    # (docs/compatibility.md#quirk-pending-since-not-restored).
    seed.register(r, "q4")
    seed.pending(r, seed.message(queue="q4"))  # oldest, no pending_since
    seed.pending(r, seed.message(queue="q4"), pending_since_ns=int((NOW - 5) * 1e9))
    assert insp.get_queue_info("q4").latency == timedelta(0)
    r.rpop("asynq:{q4}:pending")  # drop the oldest
    assert insp.get_queue_info("q4").latency == timedelta(seconds=5)


def test_queue_info_of_an_unregistered_queue_is_not_found(insp, r):
    seed.pending(r, seed.message(queue="ghost"), pending_since_ns=1)
    with pytest.raises(asynq.QueueNotFoundError):
        insp.get_queue_info("ghost")


def test_history_lists_today_first(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    stats = insp.history(sc.queue, days=3)
    assert stats == [
        DailyStats(queue=sc.queue, processed=7, failed=2, date=NOW_DT),
        DailyStats(queue=sc.queue, processed=3, failed=1, date=NOW_DT - timedelta(days=1)),
        DailyStats(queue=sc.queue, processed=0, failed=0, date=NOW_DT - timedelta(days=2)),
    ]
    assert len(insp.history(sc.queue)) == 7
    with pytest.raises(asynq.ValidationError):
        insp.history(sc.queue, days=0)
    with pytest.raises(asynq.QueueNotFoundError):
        insp.history("nope")


def test_groups_with_their_sizes(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    groups = insp.groups(sc.queue)
    assert sorted(groups, key=lambda g: g.group) == [
        GroupInfo(group="g1", size=3),
        GroupInfo(group="g2", size=1),
    ]
    # Go does not check the queue for Groups: an unknown queue simply has none.
    assert insp.groups("nope") == []


def test_pending_pages_run_oldest_first(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    assert ids(insp.list_pending_tasks(sc.queue)) == sc.pending
    pages = [ids(insp.list_pending_tasks(sc.queue, page=p, page_size=4)) for p in (1, 2, 3)]
    assert pages == [sc.pending[0:4], sc.pending[4:], []]
    first = insp.list_pending_tasks(sc.queue, page_size=1)[0]
    assert first.state is asynq.TaskState.PENDING
    assert first.next_process_at == NOW_DT
    assert (first.type, first.payload, first.max_retry) == ("email:send", b"p0", 25)
    assert first.timeout == timedelta(minutes=30)


def test_active_tasks_flag_expired_leases(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    active = insp.list_active_tasks(sc.queue)
    assert ids(active) == sc.active
    assert {i.id for i in active if i.is_orphaned} == sc.orphaned
    assert all(i.next_process_at is None for i in active)
    assert ids(insp.list_active_tasks(sc.queue, page=2, page_size=2)) == sc.active[2:]


def test_zset_states_list_by_score(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    scheduled = insp.list_scheduled_tasks(sc.queue)
    assert ids(scheduled) == sc.scheduled
    assert [i.next_process_at for i in scheduled] == [
        at(NOW_SEC + 50),
        at(NOW_SEC + 100),
        at(NOW_SEC + 200),
        at(NOW_SEC + 300),
    ]
    last = scheduled[-1]
    assert (last.headers, last.max_retry, last.timeout) == (
        {"trace": "abc"},
        3,
        timedelta(seconds=60),
    )
    assert ids(insp.list_scheduled_tasks(sc.queue, page=2, page_size=3)) == sc.scheduled[3:]

    retry = insp.list_retry_tasks(sc.queue)
    assert ids(retry) == sc.retry
    assert (retry[0].retried, retry[0].last_err) == (3, "smtp down")
    assert retry[0].last_failed_at == at(NOW_SEC - 100)
    assert retry[0].next_process_at == at(NOW_SEC + 30)

    archived = insp.list_archived_tasks(sc.queue)
    assert ids(archived) == sc.archived
    assert all(i.next_process_at is None for i in archived)
    assert archived[1].deadline == at(NOW_SEC + 9999)
    assert archived[1].timeout == timedelta(0)

    completed = insp.list_completed_tasks(sc.queue)
    assert ids(completed) == sc.completed
    assert [i.result for i in completed] == [None, b"res"]
    assert completed[1].completed_at == at(NOW_SEC - 10)
    assert completed[1].retention == timedelta(hours=1)

    g1 = insp.list_aggregating_tasks(sc.queue, "g1")
    assert ids(g1) == sc.groups["g1"]
    assert {i.group for i in g1} == {"g1"}
    assert ids(insp.list_aggregating_tasks(sc.queue, "g1", page=2, page_size=2)) == [
        sc.groups["g1"][2]
    ]
    assert insp.list_aggregating_tasks(sc.queue, "none") == []


def test_task_info_in_each_state(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    q = sc.queue
    pending = insp.get_task_info(q, sc.pending[0])
    assert pending.state is asynq.TaskState.PENDING
    assert pending.next_process_at == at(NOW_SEC)  # whole seconds, as Go's script passes
    assert insp.get_task_info(q, sc.scheduled[0]).next_process_at == at(NOW_SEC + 50)
    assert insp.get_task_info(q, sc.retry[1]).next_process_at == at(NOW_SEC + 60)
    for tid, state in (
        (sc.active[0], asynq.TaskState.ACTIVE),
        (sc.archived[0], asynq.TaskState.ARCHIVED),
        (sc.groups["g2"][0], asynq.TaskState.AGGREGATING),
    ):
        info = insp.get_task_info(q, tid)
        assert (info.state, info.next_process_at, info.is_orphaned) == (state, None, False)
    done = insp.get_task_info(q, sc.completed[1])
    assert (done.state, done.result) == (asynq.TaskState.COMPLETED, b"res")


def test_task_info_errors(insp, r, redis_url):
    sc = python_scenario(r, redis_url, NOW)
    with pytest.raises(asynq.TaskNotFoundError):
        insp.get_task_info(sc.queue, "no-such-id")
    # A task of another queue is not found either: the id is looked up in this queue only.
    seed.register(r, "other")
    with pytest.raises(asynq.TaskNotFoundError):
        insp.get_task_info("other", sc.pending[0])
    with pytest.raises(asynq.QueueNotFoundError):
        insp.get_task_info("nope", sc.pending[0])


def test_lists_of_an_unregistered_queue_are_not_found(insp, r):
    seed.pending(r, seed.message(queue="ghost"), pending_since_ns=1)
    for call in (
        insp.list_pending_tasks,
        insp.list_active_tasks,
        insp.list_scheduled_tasks,
        insp.list_retry_tasks,
        insp.list_archived_tasks,
        insp.list_completed_tasks,
    ):
        with pytest.raises(asynq.QueueNotFoundError):
            call("ghost")
    with pytest.raises(asynq.QueueNotFoundError):
        insp.list_aggregating_tasks("ghost", "g")


@pytest.mark.parametrize(
    "call",
    [
        lambda i: i.get_queue_info(" "),
        lambda i: i.list_pending_tasks(""),
        lambda i: i.list_pending_tasks("q", page=0),
        lambda i: i.list_retry_tasks("q", page_size=0),
        lambda i: i.list_archived_tasks("q", page=-1),
        lambda i: i.list_aggregating_tasks("q", ""),
        lambda i: i.get_task_info("q", ""),
        lambda i: i.groups("\t"),
        lambda i: i.list_scheduler_enqueue_events(""),
        lambda i: i.list_scheduler_enqueue_events("e", page=0),
        lambda i: i.update_task_payload("q", "id", "text"),
        lambda i: i.history("q", days=-1),
    ],
)
def test_bad_arguments_raise_validation_error(insp, call):
    with pytest.raises(asynq.ValidationError):
        call(insp)


def test_redis_info_reports_info_text(insp, r):
    info = insp.redis_info()
    assert info["redis_version"] == r.info()["redis_version"]
    assert info["role"] == "master"
    assert all(isinstance(v, str) for v in info.values())
