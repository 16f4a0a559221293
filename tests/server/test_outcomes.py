"""Every task outcome leaves Redis exactly as a Go v0.26.0 server would
(docs/compatibility.md#task-outcomes)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
import redis

import asynq
from asynq._base import keys
from asynq.servemux import ServeMux
from asynq.server import ActiveTask
from tests.helpers.waiting import wait_until
from tests.server.conftest import Sleeper, read_msg, state

Q = "default"
NINETY_DAYS = 90 * 24 * 3600


def today_processed(q: str = Q) -> str:
    return keys.processed_key(q, time.time())


def today_failed(q: str = Q) -> str:
    return keys.failed_key(q, time.time())


def assert_not_active(r: redis.Redis, task_id: str, q: str = Q) -> None:
    assert task_id.encode() not in r.lrange(keys.active_key(q), 0, -1)
    assert r.zscore(keys.lease_key(q), task_id) is None


def assert_counters(r: redis.Redis, processed: int, failed: int, q: str = Q) -> None:
    assert int(r.get(keys.processed_total_key(q)) or 0) == processed
    assert int(r.get(today_processed(q)) or 0) == processed
    assert int(r.get(keys.failed_total_key(q)) or 0) == failed
    assert int(r.get(today_failed(q)) or 0) == failed
    if processed:
        assert NINETY_DAYS - 60 < r.ttl(today_processed(q)) <= NINETY_DAYS
    if failed:
        assert NINETY_DAYS - 60 < r.ttl(today_failed(q)) <= NINETY_DAYS


async def test_success_deletes_task_and_counts_processed(start_server, client, r):
    seen: list[ActiveTask] = []

    async def handler(task: ActiveTask) -> None:
        seen.append(task)

    await start_server(handler)
    info = client.enqueue(asynq.Task("email:send", b'{"to":"a"}', headers={"k": "v"}))
    await wait_until(lambda: not r.exists(keys.task_key(Q, info.id)))
    assert_not_active(r, info.id)
    assert_counters(r, processed=1, failed=0)
    task = seen[0]
    assert isinstance(task, asynq.Task)
    assert (task.type, task.payload, dict(task.headers)) == (
        "email:send",
        b'{"to":"a"}',
        {"k": "v"},
    )
    assert (task.id, task.queue, task.retry_count, task.max_retry) == (info.id, Q, 0, 25)
    assert task.json() == {"to": "a"}
    # Default timeout 1800 s: the deadline is about 30 minutes away.
    assert 1790 < (task.deadline - datetime.now(UTC)).total_seconds() <= 1800


async def test_success_with_retention_marks_completed(start_server, client, r):
    async def handler(task: ActiveTask) -> None:
        assert await task.result_writer.write_async(b"the result") == 10

    await start_server(handler)
    before = int(time.time())
    info = client.enqueue(asynq.Task("report", b"p"), retention=3600)
    await wait_until(lambda: state(r, Q, info.id) == "completed")
    assert_not_active(r, info.id)
    score = r.zscore(keys.completed_key(Q), info.id)
    assert before + 3600 <= score <= int(time.time()) + 3600
    msg = read_msg(r, Q, info.id)
    assert before <= msg.completed_at <= time.time()
    assert msg.retention == 3600
    assert r.hget(keys.task_key(Q, info.id), "result") == b"the result"
    assert_counters(r, processed=1, failed=0)


async def test_unique_lock_released_on_success(start_server, client, r):
    await start_server(lambda task: None)
    a = client.enqueue(asynq.Task("u", b"1"), unique=600)
    b = client.enqueue(asynq.Task("u", b"2"), unique=600, retention=60)
    lock_a = keys.unique_key(Q, "u", b"1")
    lock_b = keys.unique_key(Q, "u", b"2")
    await wait_until(lambda: not r.exists(keys.task_key(Q, a.id)))
    await wait_until(lambda: state(r, Q, b.id) == "completed")
    assert not r.exists(lock_a)
    assert not r.exists(lock_b)
    # unique_key survives in the completed hash, as in Go.
    assert r.hget(keys.task_key(Q, b.id), "unique_key") == lock_b.encode()


async def test_unique_lock_of_another_task_is_kept(start_server, client, r):
    started = asyncio.Event()
    release = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await release.wait()

    await start_server(handler)
    info = client.enqueue(asynq.Task("u", b"1"), unique=600)
    lock = keys.unique_key(Q, "u", b"1")
    await asyncio.wait_for(started.wait(), 5)
    r.set(lock, "someone-else")
    release.set()
    await wait_until(lambda: not r.exists(keys.task_key(Q, info.id)))
    assert r.get(lock) == b"someone-else"


async def test_failure_retries_with_delay_and_counts(start_server, client, r):
    async def handler(task: ActiveTask) -> None:
        raise ValueError("smtp down")

    await start_server(handler, retry_delay_func=lambda n, exc, task: 100)
    before = int(time.time())
    info = client.enqueue(asynq.Task("email:send", b"x"), max_retry=3)
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert_not_active(r, info.id)
    score = r.zscore(keys.retry_key(Q), info.id)
    assert before + 100 <= score <= int(time.time()) + 100
    assert score == int(score)
    msg = read_msg(r, Q, info.id)
    assert (msg.retried, msg.error_msg) == (1, "smtp down")
    assert before <= msg.last_failed_at <= time.time()
    assert_counters(r, processed=1, failed=1)


async def test_default_retry_delay_is_go_formula(start_server, client, r):
    async def handler(task: ActiveTask) -> None:
        raise RuntimeError("x")

    await start_server(handler)
    before = int(time.time())
    info = client.enqueue(asynq.Task("t", b""), max_retry=3)
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    # First failure (n = 0): 15 + rand(0..29) seconds.
    delay = r.zscore(keys.retry_key(Q), info.id) - before
    assert 15 <= delay <= 44 + 1


async def test_not_a_failure_keeps_retried_and_counters(start_server, client, r):
    class Busy(Exception):
        pass

    async def handler(task: ActiveTask) -> None:
        raise Busy("try later")

    await start_server(
        handler,
        is_failure=lambda exc: not isinstance(exc, Busy),
        retry_delay_func=lambda n, exc, task: 10,
    )
    info = client.enqueue(asynq.Task("t", b""), max_retry=3)
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    msg = read_msg(r, Q, info.id)
    assert (msg.retried, msg.error_msg) == (0, "try later")
    assert msg.last_failed_at > 0
    assert_counters(r, processed=0, failed=0)


async def test_out_of_retries_archives(start_server, client, r):
    async def handler(task: ActiveTask) -> None:
        raise ValueError("still broken")

    await start_server(handler)
    before = int(time.time())
    info = client.enqueue(asynq.Task("t", b""), max_retry=0)
    await wait_until(lambda: state(r, Q, info.id) == "archived")
    assert_not_active(r, info.id)
    assert before <= r.zscore(keys.archived_key(Q), info.id) <= time.time()
    msg = read_msg(r, Q, info.id)
    assert (msg.retried, msg.error_msg) == (0, "still broken")
    assert_counters(r, processed=1, failed=1)


async def test_skip_retry_archives_at_once(start_server, client, r):
    async def handler(task: ActiveTask) -> None:
        raise asynq.SkipRetry("bad payload")

    await start_server(handler)
    info = client.enqueue(asynq.Task("t", b""), max_retry=10)
    await wait_until(lambda: state(r, Q, info.id) == "archived")
    msg = read_msg(r, Q, info.id)
    assert msg.error_msg == "bad payload: skip retry for the task"
    assert msg.retried == 0
    assert_counters(r, processed=1, failed=1)


async def test_revoke_deletes_and_counts_processed_only(start_server, client, r):
    errors: list[BaseException] = []

    async def handler(task: ActiveTask) -> None:
        raise asynq.RevokeTask()

    await start_server(handler, error_handler=lambda task, exc: errors.append(exc))
    info = client.enqueue(asynq.Task("t", b""), unique=60)
    await wait_until(lambda: not r.exists(keys.task_key(Q, info.id)))
    assert_not_active(r, info.id)
    assert not r.exists(keys.unique_key(Q, "t", b""))
    assert_counters(r, processed=1, failed=0)
    assert len(errors) == 1 and isinstance(errors[0], asynq.RevokeTask)


async def test_unknown_type_is_retried_with_go_text(start_server, client, r):
    mux = ServeMux()
    mux.handle_func("known", lambda task: None)
    await start_server(mux, retry_delay_func=lambda n, exc, task: 60)
    info = client.enqueue(asynq.Task("unknown:type", b""))
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert read_msg(r, Q, info.id).error_msg == 'handler not found for task "unknown:type"'


async def test_error_handler_gets_task_and_error(start_server, client, r):
    calls: list[tuple[str, int, str]] = []

    async def on_error(task: ActiveTask, exc: BaseException) -> None:
        calls.append((task.id, task.retry_count, str(exc)))

    async def handler(task: ActiveTask) -> None:
        raise KeyError("k")

    await start_server(handler, error_handler=on_error, retry_delay_func=lambda *a: 60)
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert calls == [(info.id, 0, "'k'")]


async def test_timeout_fails_with_deadline_exceeded(start_server, client, r):
    sleeper = Sleeper()
    await start_server(sleeper, retry_delay_func=lambda *a: 60)
    info = client.enqueue(asynq.Task("slow", b""), timeout=1)
    await wait_until(lambda: state(r, Q, info.id) == "retry", within=5)
    assert sleeper.cancelled.is_set()
    msg = read_msg(r, Q, info.id)
    assert (msg.error_msg, msg.retried) == ("context deadline exceeded", 1)


async def test_passed_deadline_fails_without_running(start_server, client, r):
    ran: list[str] = []
    await start_server(lambda task: ran.append(task.id), retry_delay_func=lambda *a: 60)
    info = client.enqueue(asynq.Task("late", b""), deadline=time.time() - 5)
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert read_msg(r, Q, info.id).error_msg == "context deadline exceeded"
    assert ran == []


async def test_cancel_via_pubsub(start_server, client, r):
    sleeper = Sleeper()
    await start_server(sleeper, retry_delay_func=lambda *a: 60)
    info = client.enqueue(asynq.Task("long", b""))
    await asyncio.wait_for(sleeper.started.wait(), 5)
    assert r.publish(keys.CANCEL_CHANNEL, info.id) == 1
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert sleeper.cancelled.is_set()
    assert read_msg(r, Q, info.id).error_msg == "context canceled"


async def test_hung_sync_handler_frees_its_slot(start_server, client, r):
    """A plain def handler stuck past its timeout fails on time and does not hold the slot."""
    unblock = threading.Event()
    done: list[str] = []

    def handler(task: ActiveTask) -> None:
        if task.type == "hang":
            unblock.wait(20)
            return
        done.append(task.id)

    await start_server(handler, concurrency=1, retry_delay_func=lambda *a: 60)
    try:
        hung = client.enqueue(asynq.Task("hang", b""), timeout=1)
        await wait_until(lambda: state(r, Q, hung.id) == "active")
        quick = client.enqueue(asynq.Task("quick", b""))
        await wait_until(lambda: state(r, Q, hung.id) == "retry", within=5)
        assert read_msg(r, Q, hung.id).error_msg == "context deadline exceeded"
        await wait_until(lambda: done == [quick.id])
    finally:
        unblock.set()


async def test_sync_handler_sees_cancelled_and_writes_result(start_server, client, r):
    observed: list[object] = []

    def handler(task: ActiveTask) -> None:
        observed.append(task.cancelled)
        observed.append(task.result_writer.write(b"sync result"))
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # really in a worker thread

    await start_server(handler)
    info = client.enqueue(asynq.Task("t", b""), retention=60)
    await wait_until(lambda: state(r, Q, info.id) == "completed")
    assert observed == [False, 11]
    assert r.hget(keys.task_key(Q, info.id), "result") == b"sync result"


async def test_result_writer_refuses_after_task_finished(start_server, client, r):
    kept: list[ActiveTask] = []

    async def handler(task: ActiveTask) -> None:
        kept.append(task)

    await start_server(handler)
    info = client.enqueue(asynq.Task("t", b""), retention=60)
    await wait_until(lambda: state(r, Q, info.id) == "completed")
    with pytest.raises(asynq.TaskCanceledError, match="failed to write task result"):
        await kept[0].result_writer.write_async(b"late")
    assert kept[0].cancelled


async def test_shutdown_requeues_unfinished_task_to_the_head(start_server, client, r):
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        if task.type == "block":
            started.set()
            await asyncio.sleep(60)

    server = await start_server(handler, concurrency=1, shutdown_timeout=0.3)
    info = client.enqueue(asynq.Task("block", b""))
    await asyncio.wait_for(started.wait(), 5)
    server.stop()
    assert server.state == "stopped"
    other = client.enqueue(asynq.Task("other", b""))
    await server.shutdown()
    assert server.state == "closed"
    assert_not_active(r, info.id)
    # RPUSH: the requeued task is the next one a worker pops (from the right).
    assert r.lrange(keys.pending_key(Q), 0, -1) == [other.id.encode(), info.id.encode()]
    assert state(r, Q, info.id) == "pending"
    # docs/compatibility.md#quirk-pending-since-not-restored
    assert r.hget(keys.task_key(Q, info.id), "pending_since") is None
    assert_counters(r, processed=0, failed=0)


async def test_shutdown_waits_for_running_tasks(start_server, client, r):
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(0.3)

    server = await start_server(handler, shutdown_timeout=5)
    info = client.enqueue(asynq.Task("t", b""))
    await asyncio.wait_for(started.wait(), 5)
    await server.shutdown()
    assert not r.exists(keys.task_key(Q, info.id))
    assert_counters(r, processed=1, failed=0)


async def test_total_counter_wraps_at_max_int64(start_server, client, r):
    r.set(keys.processed_total_key(Q), 9223372036854775807)
    r.set(keys.failed_total_key(Q), 5)

    async def handler(task: ActiveTask) -> None:
        raise ValueError("x")

    await start_server(handler, retry_delay_func=lambda *a: 60)
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    # Both totals are reset together, decided by the processed total.
    assert r.get(keys.processed_total_key(Q)) == b"1"
    assert r.get(keys.failed_total_key(Q)) == b"1"


async def test_processed_total_wraps_alone_on_success(start_server, client, r):
    r.set(keys.processed_total_key(Q), 9223372036854775807)
    r.set(keys.failed_total_key(Q), 5)
    done: list[str] = []
    await start_server(lambda task: done.append(task.id))
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: done == [info.id] and not r.exists(keys.task_key(Q, info.id)))
    assert r.get(keys.processed_total_key(Q)) == b"1"
    assert r.get(keys.failed_total_key(Q)) == b"5"


async def test_paused_queue_is_skipped(start_server, client, r):
    done: list[str] = []
    r.set(keys.paused_key("low"), int(time.time()))
    await start_server(lambda task: done.append(task.queue), queues={"low": 1, "high": 1})
    paused = client.enqueue(asynq.Task("t", b""), queue="low")
    client.enqueue(asynq.Task("t", b""), queue="high")
    await wait_until(lambda: done == ["high"])
    await asyncio.sleep(0.3)
    assert done == ["high"]
    assert state(r, "low", paused.id) == "pending"
    r.delete(keys.paused_key("low"))
    await wait_until(lambda: sorted(done) == ["high", "low"])
