"""servers(), scheduler_entries(), list_scheduler_enqueue_events() and cancel_processing():
on seeded heartbeats, and against a real Go Server and a real Go Scheduler."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

import asynq
from asynq._base import keys
from asynq._snapshots import SchedulerEnqueueEvent
from tests.helpers import gopeer, seed
from tests.inspector._support import from_go, go_call, go_flags, now_sec

pytestmark = pytest.mark.interop


def wait_for(predicate: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def go_answer(target: Any, op: str, **args: Any) -> Any:
    answer = go_call(target, op, **args)
    assert "err" not in answer, answer
    return from_go(op, answer.get("ok"))


def by_start(server: asynq._snapshots.ServerInfo) -> Any:
    workers = sorted(server.active_workers, key=lambda w: (w.started, w.task_id))
    return replace(server, active_workers=workers)


def sorted_servers(servers: list[Any]) -> list[Any]:
    return sorted((by_start(s) for s in servers), key=lambda s: (s.host, s.pid, s.id))


# ---- servers -------------------------------------------------------------------------------


def test_servers_from_seeded_heartbeats(make_inspector, redis_url, r):
    now = now_sec()
    alive = seed.server_info(host="h1", pid=11, queues={"a": 3, "b": 1}, concurrency=4)
    other = seed.server_info(host="h0", pid=7, status="stopped", strict_priority=True)
    dead = seed.server_info(host="h9", pid=99)
    t1 = seed.message("resize", b"img", queue="a")
    t2 = seed.message("email", b"x", queue="b")
    workers = [
        seed.worker_info(alive, t2, started=now - 5.5, deadline=now + 60.25),
        seed.worker_info(alive, t1, started=now - 9.123456789, deadline=now + 30),
    ]
    seed.server(r, alive, workers, expires_at=now + 10)
    seed.server(r, other, expires_at=now + 10)
    seed.server(
        r, dead, [seed.worker_info(dead, t1, started=now, deadline=now)], expires_at=now - 5
    )
    # Workers of a server that has no live entry are dropped.
    ghost = seed.server_info(host="h5", pid=5)
    r.zadd(keys.ALL_WORKERS, {keys.workers_key("h5", 5, ghost.server_id): now + 10})
    r.hset(
        keys.workers_key("h5", 5, ghost.server_id),
        t1.id,
        seed.worker_info(ghost, t1, started=now, deadline=now).SerializeToString(),
    )
    # Undecodable heartbeat data is skipped, as in Go.
    r.zadd(keys.ALL_SERVERS, {"asynq:servers:{bad}": now + 10})
    r.set("asynq:servers:{bad}", b"\xff\xff\xff")

    insp = make_inspector(redis_url)
    servers = insp.servers()
    assert [(s.host, s.pid) for s in servers] == [("h0", 7), ("h1", 11)]
    h0, h1 = servers
    assert (h0.status, h0.strict_priority, h0.active_workers) == ("stopped", True, [])
    assert h1.id == alive.server_id
    assert (h1.queues, h1.concurrency, h1.status) == ({"a": 3, "b": 1}, 4, "active")
    assert h1.started == datetime.fromtimestamp(1_700_000_000.25, UTC)
    assert [w.task_id for w in h1.active_workers] == [t1.id, t2.id]  # by start time
    w = h1.active_workers[0]
    assert (w.task_type, w.task_payload, w.queue) == ("resize", b"img", "a")
    assert w.started == datetime.fromtimestamp(now - 10, UTC).replace(microsecond=876543)
    # Expired members were pruned, the way Go's listing prunes them.
    assert r.zscore(keys.ALL_SERVERS, keys.server_info_key("h9", 99, dead.server_id)) is None
    assert r.zscore(keys.ALL_WORKERS, keys.workers_key("h9", 99, dead.server_id)) is None

    assert servers == sorted_servers(go_answer(redis_url, "Servers"))


def test_servers_is_empty_without_heartbeats(insp):
    assert insp.servers() == []
    assert insp.scheduler_entries() == []
    assert insp.list_scheduler_enqueue_events("no-such-entry") == []


def test_servers_and_active_tasks_of_a_running_go_server(make_inspector, redis_url, r):
    with asynq.Client(redis_url) as client:
        ids = [
            client.enqueue(asynq.Task("block", f"{i}".encode()), queue="wq").id for i in range(4)
        ]
    proc = gopeer.start_go(
        "insp_worker", *go_flags(redis_url), "-queues", "wq=1", "-concurrency", "3"
    )
    try:
        # Go's heartbeat lists a server's workers every 5 s.
        def three_workers() -> bool:
            return any(r.hlen(k) == 3 for k in r.zrange(keys.ALL_WORKERS, 0, -1))

        wait_for(three_workers, "the Go server to report 3 workers", timeout=20)
        insp = make_inspector(redis_url)
        servers = insp.servers()
        assert len(servers) == 1
        server = servers[0]
        assert (server.queues, server.concurrency, server.status) == ({"wq": 1}, 3, "active")
        running = {w.task_id for w in server.active_workers}
        assert len(running) == 3 and running < set(ids)
        assert servers == sorted_servers(go_answer(redis_url, "Servers"))

        active = insp.list_active_tasks("wq")
        assert {t.id for t in active} == running
        assert not any(t.is_orphaned for t in active)
        assert active == go_answer(redis_url, "ListActiveTasks", queue="wq")
        assert insp.get_queue_info("wq").active == 3
        victim = sorted(running)[0]
        with pytest.raises(asynq.TaskAlreadyRunningError):
            insp.delete_task("wq", victim)
        with pytest.raises(asynq.TaskAlreadyRunningError):
            insp.archive_task("wq", victim)

        insp.cancel_processing(victim)

        def canceled() -> bool:
            events = [json.loads(line) for line in proc.read_stdout().splitlines()]
            return {"event": "canceled", "id": victim, "err": "context canceled"} in events

        wait_for(canceled, "the Go server to cancel the task")
    finally:
        proc.stop()
    assert proc.returncode == 0, proc.output()


# ---- schedulers ----------------------------------------------------------------------------

GO_OPTION_STRINGS = [
    'Queue("critical")',
    "MaxRetry(3)",
    "Timeout(90s)",
    "Unique(1h)",
    "ProcessIn(1.5ms)",
    "Retention(36h0m0s)",
    "Deadline(Fri Jan  1 00:00:00 UTC 2100)",
    "ProcessAt(Mon Jan 12 10:30:00 UTC 2026)",
    'TaskID("abc")',
    'Group("g")',
    "MaxRetry(x)",
    "Timeout(forever)",
    "Queue(unquoted)",
    "Whatever(1)",
]


def test_scheduler_entries_and_events_from_seeded_state(make_inspector, redis_url, r):
    now = now_sec()
    e1 = seed.scheduler_entry(
        spec="@every 30s",
        task_type="report",
        payload=b"daily",
        options=GO_OPTION_STRINGS,
        next_unix=now + 30,
        prev_unix=now - 30.5,
    )
    e2 = seed.scheduler_entry(spec="0 * * * *", task_type="hourly", next_unix=now + 3600)
    seed.scheduler(r, "host:1:sched-a", [e1, e2], expires_at=now + 20)
    expired = seed.scheduler_entry(task_type="stale")
    seed.scheduler(r, "host:2:sched-b", [expired], expires_at=now - 1)
    events = []
    for i in range(5):
        ns = (now - 100 + 10 * i) * 1_000_000_000 + 123_456_789
        seed.scheduler_event(r, e1.id, f"task-{i}", enqueued_ns=ns)
        events.append(SchedulerEnqueueEvent(task_id=f"task-{i}", enqueued_at=_ns_time(ns)))

    insp = make_inspector(redis_url)
    entries = insp.scheduler_entries()
    # LPUSH reverses the written order, as Go's scheduler does.
    assert [e.task.type for e in entries] == ["hourly", "report"]
    hourly, report = entries
    assert (hourly.prev, hourly.opts, hourly.spec) == (None, [], "0 * * * *")
    assert report.task == asynq.Task("report", b"daily")
    assert report.next == datetime.fromtimestamp(now + 30, UTC)
    assert report.prev == datetime.fromtimestamp(now - 30.5, UTC)
    assert report.opts == [
        'Queue("critical")',
        "MaxRetry(3)",
        "Timeout(1m30s)",
        "Unique(1h0m0s)",
        "ProcessIn(1.5ms)",
        "Retention(36h0m0s)",
        "Deadline(Fri Jan  1 00:00:00 UTC 2100)",
        "ProcessAt(Mon Jan 12 10:30:00 UTC 2026)",
    ]
    assert r.zscore(keys.ALL_SCHEDULERS, keys.scheduler_entries_key("host:2:sched-b")) is None
    assert entries == go_answer(redis_url, "SchedulerEntries")

    newest_first = list(reversed(events))
    assert insp.list_scheduler_enqueue_events(e1.id) == newest_first
    pages = [insp.list_scheduler_enqueue_events(e1.id, page=p, page_size=2) for p in (1, 2, 3)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    for page, size in ((1, 30), (2, 2), (3, 2), (7, 1)):
        go = go_answer(redis_url, "ListSchedulerEnqueueEvents", entry=e1.id, page=page, size=size)
        assert insp.list_scheduler_enqueue_events(e1.id, page=page, page_size=size) == go


def _ns_time(ns: int) -> datetime:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)


def test_entries_and_history_of_a_running_go_scheduler(make_inspector, redis_url, r):
    proc = gopeer.start_go("insp_scheduler", *go_flags(redis_url), "-heartbeat", "1s")
    try:

        def ticked_twice() -> bool:
            lists = r.zrange(keys.ALL_SCHEDULERS, 0, -1)
            histories = list(r.scan_iter("asynq:scheduler_history:*"))
            return bool(lists) and any(r.zcard(h) >= 2 for h in histories)

        wait_for(ticked_twice, "the Go scheduler to enqueue twice")
        proc.kill()  # freeze: no more heartbeats or enqueues
        proc.wait()
    finally:
        proc.stop()
    # Keep the frozen heartbeat alive for the comparison.
    for key in r.zrange(keys.ALL_SCHEDULERS, 0, -1):
        r.persist(key)
        r.zadd(keys.ALL_SCHEDULERS, {key: now_sec() + 3600}, xx=True)

    insp = make_inspector(redis_url)
    entries = insp.scheduler_entries()
    assert entries == go_answer(redis_url, "SchedulerEntries")
    assert sorted(e.spec for e in entries) == ["0 0 1 1 *", "@every 1h", "@every 1s"]
    tick = next(e for e in entries if e.spec == "@every 1s")
    assert tick.task == asynq.Task("tick", b"tock")
    # Go's Inspector drops Group(...) (docs/compatibility.md#quirk-scheduler-option-strings).
    assert tick.opts == [
        'Queue("sq")',
        "MaxRetry(3)",
        "Timeout(1m30s)",
        "Retention(2h0m0s)",
        "Deadline(Fri Jan  1 00:00:00 UTC 2100)",
    ]
    assert tick.prev is not None and tick.next is not None and tick.prev < tick.next
    yearly = next(e for e in entries if e.spec == "0 0 1 1 *")
    assert (yearly.prev, yearly.opts) == (None, ["ProcessIn(10m0s)"])

    events = insp.list_scheduler_enqueue_events(tick.id)
    assert len(events) >= 2
    assert events == sorted(events, key=lambda e: e.enqueued_at, reverse=True)
    for e in events:
        assert r.hget(keys.task_key("sq", e.task_id), "state") == b"aggregating"
    for page, size in ((1, 30), (1, 1), (2, 1)):
        go = go_answer(redis_url, "ListSchedulerEnqueueEvents", entry=tick.id, page=page, size=size)
        assert insp.list_scheduler_enqueue_events(tick.id, page=page, page_size=size) == go
