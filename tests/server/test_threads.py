"""The elastic thread pool behind plain ``def`` handlers."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import asynq
from asynq.server._threads import ElasticThreadExecutor
from tests.helpers.waiting import wait_until


def test_reuses_idle_threads_and_grows_past_stuck_ones() -> None:
    pool = ElasticThreadExecutor(idle_timeout=30)
    try:
        assert [pool.submit(lambda i=i: i * 2).result(5) for i in range(5)] == [0, 2, 4, 6, 8]
        # Sequential calls: one thread did it all.
        assert pool.thread_count == 1
        stuck = threading.Event()
        futures = [pool.submit(stuck.wait, 10) for _ in range(3)]
        # Three threads are stuck; new work still runs at once on a new thread.
        assert pool.submit(lambda: "ran").result(5) == "ran"
        assert pool.thread_count == 4
        stuck.set()
        assert all(f.result(5) for f in futures)
    finally:
        pool.shutdown()


def test_idle_threads_exit() -> None:
    pool = ElasticThreadExecutor(idle_timeout=0.05)
    try:
        pool.submit(lambda: None).result(5)
        deadline = time.monotonic() + 5
        while pool.thread_count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.thread_count == 0
        assert pool.submit(lambda: 1).result(5) == 1  # and come back when needed
    finally:
        pool.shutdown()


def test_exceptions_propagate_and_threads_are_daemons() -> None:
    pool = ElasticThreadExecutor()
    try:

        def boom() -> None:
            assert threading.current_thread().daemon
            raise ValueError("x")

        error = pool.submit(boom).exception(5)
        assert isinstance(error, ValueError)
    finally:
        pool.shutdown()


async def test_calls_for_the_loop_return_results_and_errors_in_batches() -> None:
    pool = ElasticThreadExecutor()
    try:
        results = await asyncio.gather(*(pool.call_for_loop(lambda i=i: i * 2) for i in range(50)))
        assert results == [i * 2 for i in range(50)]

        def boom() -> None:
            raise ValueError("x")

        with pytest.raises(ValueError, match="x"):
            await pool.call_for_loop(boom)

        def stops() -> None:
            raise StopIteration  # a future cannot carry it; it arrives as a RuntimeError

        with pytest.raises(RuntimeError, match="StopIteration"):
            await pool.call_for_loop(stops)
        # A cancelled call's late outcome is dropped; the next calls are unaffected.
        release = threading.Event()
        stuck = pool.call_for_loop(release.wait, 5)
        stuck.cancel()
        release.set()
        assert await pool.call_for_loop(lambda: "after") == "after"
    finally:
        pool.shutdown()


async def test_calls_queued_behind_a_blocking_one_still_run() -> None:
    # Queued in one go, the calls wait for the one spare thread; the thread that takes the
    # blocking call must leave another awake for the rest.
    pool = ElasticThreadExecutor()
    release = threading.Event()
    try:
        stuck = pool.call_for_loop(release.wait, 30)
        quick = [pool.call_for_loop(lambda i=i: i) for i in range(5)]
        assert await asyncio.wait_for(asyncio.gather(*quick), 10) == list(range(5))
        assert not stuck.done()
        release.set()
        assert await stuck is True
    finally:
        release.set()
        pool.shutdown()


def test_a_call_no_thread_can_take_is_refused_and_the_pool_stays_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = ElasticThreadExecutor()
    try:

        def cannot_start(self: threading.Thread) -> None:
            raise RuntimeError("can't start new thread")

        with monkeypatch.context() as patched:
            patched.setattr(threading.Thread, "start", cannot_start)
            with pytest.raises(RuntimeError, match="can't start new thread"):
                pool.submit(lambda: "lost")
        assert pool.thread_count == 0
        assert pool.submit(lambda: "ran").result(5) == "ran"
        assert pool.thread_count == 1
    finally:
        pool.shutdown()


def test_shutdown_runs_queued_calls_and_ends_idle_threads() -> None:
    pool = ElasticThreadExecutor(idle_timeout=30)
    release = threading.Event()
    busy = pool.submit(release.wait, 30)
    queued = [pool.submit(lambda i=i: i) for i in range(3)]
    assert [f.result(10) for f in queued] == [0, 1, 2]
    pool.shutdown(wait=False)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(lambda: None)
    release.set()
    assert busy.result(10) is True
    deadline = time.monotonic() + 10
    while pool.thread_count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.thread_count == 0


async def test_blocking_def_handlers_do_not_starve_async_ones(start_server, client) -> None:
    release = threading.Event()
    blocked = threading.Semaphore(0)
    done: list[str] = []

    def blocking(task: asynq.ActiveTask) -> None:
        blocked.release()
        release.wait(30)  # blocking I/O, in a worker thread

    async def quick(task: asynq.ActiveTask) -> None:
        done.append(task.id)

    mux = asynq.ServeMux()
    mux.handle_func("block", blocking)
    mux.handle_func("quick", quick)
    await start_server(mux, concurrency=4)
    try:
        for _ in range(2):
            client.enqueue(asynq.Task("block", b""))
        await wait_until(lambda: blocked.acquire(blocking=False))
        await wait_until(lambda: blocked.acquire(blocking=False))
        ids = [client.enqueue(asynq.Task("quick", b"")).id for _ in range(20)]
        # Both def handlers still block their threads; the async tasks all ran meanwhile.
        await wait_until(lambda: sorted(done) == sorted(ids))
        assert not release.is_set()
    finally:
        release.set()
