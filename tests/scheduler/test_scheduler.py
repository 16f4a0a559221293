"""The Scheduler against real Redis: Go's heartbeat and history layout, hooks, lifecycle."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
import redis

import asynq
from asynq._base.codec import (
    GO_ZERO_TIME_SECONDS,
    SchedulerEnqueueEventMessage,
    SchedulerEntryMessage,
    decode_message,
)
from asynq._broker.drivers import SyncDriver
from asynq._broker.ops import scheduler_ops
from asynq.errors import FailedPreconditionError, TaskIDConflictError, ValidationError
from asynq.scheduler import Scheduler
from tests.helpers.waiting import wait_until

#: Go's zero time.Time as an encoded Timestamp: seconds = -62135596800, nanos = 0.
GO_ZERO_TIMESTAMP = bytes.fromhex("0880 92b8 c398 feff ffff 01")


def entries_key(s: Scheduler) -> str:
    return f"asynq:schedulers:{{{s.id}}}"


def decode_entries(r: redis.Redis, s: Scheduler) -> list[SchedulerEntryMessage]:
    out = []
    for raw in r.lrange(entries_key(s), 0, -1):
        e = SchedulerEntryMessage()
        e.ParseFromString(raw)
        out.append(e)
    return out


def history(r: redis.Redis, entry_id: str) -> list[tuple[SchedulerEnqueueEventMessage, float]]:
    out = []
    for raw, score in r.zrange(f"asynq:scheduler_history:{entry_id}", 0, -1, withscores=True):
        ev = SchedulerEnqueueEventMessage()
        ev.ParseFromString(raw)
        out.append((ev, score))
    return out


def pending(r: redis.Redis, queue: str = "default") -> list[Any]:
    ids = r.lrange(f"asynq:{{{queue}}}:pending", 0, -1)
    return [decode_message(r.hget(f"asynq:{{{queue}}}:t:{i.decode()}", "msg")) for i in ids]


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "opts", "message"),
    [
        ("* * * *", {}, "expected exactly 5 fields"),
        ("@every nope", {}, "failed to parse duration"),
        ("@every 1s", {"queue": ""}, "queue name cannot be empty"),
        ("@every 1s", {"timeout": -1}, "timeout must be between 0 and"),
        ("@every 1s", {"colour": "red"}, "unknown enqueue option"),
    ],
)
def test_register_rejects_bad_input(spec: str, opts: dict[str, Any], message: str) -> None:
    s = Scheduler("redis://127.0.0.1:1")
    with pytest.raises(ValidationError, match=message):
        s.register(spec, asynq.Task("t"), **opts)
    with pytest.raises(ValidationError, match="Task"):
        s.register("@every 1s", "not a task")  # type: ignore[arg-type]
    assert s.entries() == []


def test_register_and_unregister_ids() -> None:
    s = Scheduler("redis://127.0.0.1:1")
    a = s.register("@every 1s", asynq.Task("a"))
    b = s.register("@daily", asynq.Task("b"), queue="q")
    assert len({a, b}) == 2
    assert all(str(uuid.UUID(i, version=4)) == i for i in (a, b))
    assert {e.id for e in s.entries()} == {a, b}
    s.unregister(a)
    assert [e.id for e in s.entries()] == [b]
    with pytest.raises(ValidationError, match="no scheduler entry"):
        s.unregister(a)


def test_constructor_validation() -> None:
    with pytest.raises(ValidationError, match="asyncio"):
        Scheduler(redis.Redis())
    with pytest.raises(ValidationError, match="heartbeat_interval"):
        Scheduler(heartbeat_interval=0)
    with pytest.raises(ValidationError, match="time zone"):
        Scheduler(location="Mars/Olympus")
    s = Scheduler(location="Asia/Tokyo", heartbeat_interval=timedelta(seconds=3))
    assert str(s.location) == "Asia/Tokyo"
    host, pid, uid = s.id.rsplit(":", 2)
    assert host and int(pid) > 0 and len(uid) == 36


# --- heartbeat -------------------------------------------------------------------------------


async def test_heartbeat_writes_go_layout(make_scheduler, r) -> None:
    t0 = 1700000000.25  # Tue 2023-11-14 22:13:20.25 UTC
    clock = asynq.FakeClock(t0)
    s = make_scheduler(heartbeat_interval=1.0, clock=clock)
    never = s.register("0 0 30 2 *", asynq.Task("never"))
    five = s.register(
        "*/5 * * * *",
        asynq.Task("five", b"\x00payload", max_retry=9),
        queue="critical",
        max_retry=3,
        timeout=1800,
        headers={"k": "v"},  # no Go form: not published
    )
    every = s.register("@every 30s", asynq.Task("every"))
    await s.start()
    # Go writes the first heartbeat one interval after start.
    assert r.exists(entries_key(s)) == 0
    assert r.zscore("asynq:schedulers", entries_key(s)) is None

    await wait_until(lambda: r.exists(entries_key(s)))
    assert r.zscore("asynq:schedulers", entries_key(s)) == int(t0) + 2
    assert 0 < r.ttl(entries_key(s)) <= 2

    got = decode_entries(r, s)
    # LPUSHed soonest-first, so the list reads latest-first; never-running entries first.
    assert [e.id for e in got] == [never, five, every]
    by_id = {e.id: e for e in got}
    e5 = by_id[five]
    assert (e5.spec, e5.task_type, e5.task_payload) == ("*/5 * * * *", "five", b"\x00payload")
    assert list(e5.enqueue_options) == ['Queue("critical")', "MaxRetry(3)", "Timeout(30m0s)"]
    assert (e5.next_enqueue_time.seconds, e5.next_enqueue_time.nanos) == (1700000100, 0)
    assert (e5.prev_enqueue_time.seconds, e5.prev_enqueue_time.nanos) == (GO_ZERO_TIME_SECONDS, 0)
    # @every is aligned to multiples of its delay when de-duplicating (the default)
    assert by_id[every].next_enqueue_time.seconds == 1700000010
    assert list(by_id[every].enqueue_options) == []
    assert by_id[never].next_enqueue_time.seconds == GO_ZERO_TIME_SECONDS
    # "never run" is Go's zero time, a present sub-message, not an absent field
    raw = r.lrange(entries_key(s), 0, 0)[0]
    assert b"\x3a\x0b" + GO_ZERO_TIMESTAMP in raw  # field 7, 11 bytes
    assert b"\x32\x0b" + GO_ZERO_TIMESTAMP in raw  # field 6 (no next run)


async def test_small_interval_ttl_rounds_up(make_scheduler, r) -> None:
    s = make_scheduler(heartbeat_interval=0.1)
    s.register("@hourly", asynq.Task("h"))
    await s.start()
    await wait_until(lambda: r.exists(entries_key(s)))
    assert r.ttl(entries_key(s)) == 1


# --- firing ----------------------------------------------------------------------------------


async def test_fires_with_merged_options_hooks_and_history(make_scheduler, r) -> None:
    calls: list[tuple[str, Any, Any]] = []

    def pre(task: asynq.Task, opts: dict[str, Any]) -> None:
        calls.append(("pre", task.type, opts))

    async def post(info: asynq.TaskInfo | None, err: BaseException | None) -> None:
        calls.append(("post", info, err))

    s = make_scheduler(pre_enqueue=pre, post_enqueue=post)
    task = asynq.Task("tick", b"tock", max_retry=7, queue="ignored")
    entry = s.register("@every 1s", task, queue="critical")
    await s.start()
    await wait_until(lambda: len(pending(r, "critical")) >= 2)
    await wait_until(lambda: len(history(r, entry)) >= 2)
    await wait_until(
        lambda: decode_entries(r, s) and decode_entries(r, s)[0].prev_enqueue_time.seconds > 0
    )
    await s.shutdown()

    msgs = pending(r, "critical")
    assert {(m.type, m.payload, m.queue, m.retry) for m in msgs} == {
        ("tick", b"tock", "critical", 7)
    }
    assert r.smembers("asynq:queues") == {b"critical"}

    pres = [c for c in calls if c[0] == "pre"]
    posts = [c for c in calls if c[0] == "post"]
    assert pres and all(c == ("pre", "tick", {"queue": "critical"}) for c in pres)
    assert {c[1].id for c in posts} == {m.id for m in msgs}
    assert all(c[2] is None for c in posts)


async def test_history_events_and_prev(make_scheduler, r) -> None:
    s = make_scheduler()
    entry = s.register("@every 1s", asynq.Task("tick"))
    await s.start()
    await wait_until(lambda: len(history(r, entry)) >= 2)
    events = history(r, entry)
    ids = {m.id for m in pending(r)}
    for ev, score in events:
        assert ev.task_id in ids
        assert score == ev.enqueue_time.seconds  # integer score, Unix seconds
    [snapshot] = s.entries()
    assert snapshot.prev is not None and snapshot.prev.microsecond == 0
    assert snapshot.next is not None and snapshot.next > snapshot.prev
    await wait_until(lambda: decode_entries(r, s)[0].prev_enqueue_time.seconds > 0)
    e = decode_entries(r, s)[0]
    assert e.prev_enqueue_time.nanos == 0 and e.next_enqueue_time.nanos == 0
    assert e.next_enqueue_time.seconds - e.prev_enqueue_time.seconds == 1


async def test_enqueue_error_goes_to_post_hook_and_skips_history(make_scheduler, r) -> None:
    results: list[tuple[Any, Any]] = []
    s = make_scheduler(post_enqueue=lambda info, err: results.append((info, err)))
    entry = s.register("@every 1s", asynq.Task("fixed"), task_id="same-id")
    await s.start()
    await wait_until(lambda: len(results) >= 2)
    info, err = results[0]
    assert info.id == "same-id" and err is None
    assert results[1][0] is None and isinstance(results[1][1], TaskIDConflictError)
    assert [ev.task_id for ev, _ in history(r, entry)] == ["same-id"]


async def test_failing_hooks_do_not_stop_enqueues(make_scheduler, r, caplog) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("hook failed")

    s = make_scheduler(pre_enqueue=boom, post_enqueue=boom)
    s.register("@every 1s", asynq.Task("tick"))
    await s.start()
    await wait_until(lambda: len(pending(r)) >= 1)
    assert "pre_enqueue hook failed" in caplog.text


def test_history_op_caps_at_1000(r, redis_url) -> None:
    driver = SyncDriver(redis.Redis.from_url(redis_url))
    for i in range(1005):
        driver.run(scheduler_ops.record_event("e1", f"event-{i}".encode(), 1700000000 + i))
    key = "asynq:scheduler_history:e1"
    assert r.zcard(key) == 1000
    members = r.zrange(key, 0, -1)
    assert members[0] == b"event-5" and members[-1] == b"event-1004"
    driver.close()


async def test_scheduler_trims_full_history(make_scheduler, r) -> None:
    s = make_scheduler()
    entry = s.register("@every 1s", asynq.Task("tick"))
    key = f"asynq:scheduler_history:{entry}"
    r.zadd(key, {f"old-{i}".encode(): i for i in range(1000)})
    await s.start()
    await wait_until(lambda: r.zscore(key, b"old-0") is None)
    assert r.zcard(key) == 1000
    assert r.zscore(key, b"old-1") is not None


# --- lifecycle -------------------------------------------------------------------------------


async def test_shutdown_removes_entries_and_history(make_scheduler, r) -> None:
    s = make_scheduler()
    a = s.register("@every 1s", asynq.Task("a"))
    b = s.register("@every 1s", asynq.Task("b"))
    await s.start()
    await wait_until(lambda: r.exists(entries_key(s)) and len(history(r, a)) and len(history(r, b)))
    s.unregister(b)  # its history goes too
    await s.shutdown()
    assert r.zrange("asynq:schedulers", 0, -1) == []
    assert (
        r.exists(entries_key(s), f"asynq:scheduler_history:{a}", f"asynq:scheduler_history:{b}")
        == 0
    )
    await s.shutdown()  # a second call does nothing
    with pytest.raises(FailedPreconditionError, match="already been stopped"):
        await s.start()


async def test_start_twice_fails(make_scheduler) -> None:
    s = make_scheduler()
    await s.start()
    with pytest.raises(FailedPreconditionError, match="already running"):
        await s.start()


async def test_register_and_unregister_while_running(make_scheduler, r) -> None:
    s = make_scheduler()
    await s.start()
    first = s.register("@every 1s", asynq.Task("first"))
    await wait_until(lambda: pending(r))
    second = s.register("@every 1s", asynq.Task("second"))
    assert s.entries()[-1].next is not None  # scheduled at once, like robfig/cron's add
    s.unregister(first)
    await wait_until(lambda: any(m.type == "second" for m in pending(r)))
    await wait_until(lambda: [e.id for e in decode_entries(r, s)] == [second])


async def test_serve_cancelled_shuts_down(make_scheduler, r) -> None:
    s = make_scheduler()
    s.register("@every 1s", asynq.Task("a"))
    serving = asyncio.create_task(s.serve())
    await wait_until(lambda: r.exists(entries_key(s)))
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert r.exists(entries_key(s)) == 0
    assert r.zcard("asynq:schedulers") == 0


async def test_serve_returns_after_shutdown(make_scheduler) -> None:
    s = make_scheduler()
    serving = asyncio.create_task(s.serve())
    await wait_until(lambda: s._state == "active")
    await s.shutdown()
    await asyncio.wait_for(serving, 5)


async def test_accepts_an_asyncio_client_and_leaves_it_open(redis_url, r) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    s = Scheduler(client, heartbeat_interval=0.1)
    s.register("@every 1s", asynq.Task("a"))
    await s.start()
    await wait_until(lambda: pending(r))
    await s.shutdown()
    assert await client.ping()
    await client.aclose()
