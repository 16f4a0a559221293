"""The elastic thread pool behind plain ``def`` handlers."""

from __future__ import annotations

import threading
import time

from asynq.server._threads import ElasticThreadExecutor


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
