"""The thread pool that runs plain ``def`` handlers.

A thread cannot be killed: a handler that hangs past its deadline keeps its thread. The
server fails such a task on time and frees its concurrency slot anyway, so the pool must not
have a fixed size, or a few stuck handlers would starve every later task. This executor
starts a new thread whenever no idle one is available; idle threads exit after a while. The
number of threads is therefore the number of handlers running, counted by task (at most
``concurrency``), plus the abandoned ones still stuck.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_IDLE_EXIT = 60.0
_names = itertools.count(1)

_WorkItem = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ElasticThreadExecutor(Executor):
    """Runs each submitted call on an idle thread, starting a new daemon thread if none is idle.

    Threads are daemons so that a handler stuck forever cannot keep the process alive after
    the server has shut down.
    """

    def __init__(self, name_prefix: str = "asynq-worker", idle_timeout: float = _IDLE_EXIT):
        self._prefix = name_prefix
        self._idle_timeout = idle_timeout
        self._work: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads: set[threading.Thread] = set()
        self._shutdown = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            if self._idle > 0:
                self._idle -= 1  # that thread is claimed by this item
            else:
                self._start_thread()
            self._work.put((future, fn, args, kwargs))
        return future

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._loop, name=f"{self._prefix}-{next(_names)}", daemon=True
        )
        self._threads.add(thread)
        thread.start()

    @property
    def thread_count(self) -> int:
        """Threads alive now (busy, idle or stuck)."""
        with self._lock:
            return len(self._threads)

    def _loop(self) -> None:
        me = threading.current_thread()
        while True:
            try:
                item = self._work.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    # Leave only if no submitter claimed this thread meanwhile.
                    if self._idle > 0 and self._work.empty():
                        self._idle -= 1
                        self._threads.discard(me)
                        return
                continue
            if item is None:
                with self._lock:
                    self._threads.discard(me)
                return
            future, fn, args, kwargs = item
            del item
            if not future.set_running_or_notify_cancel():
                with self._lock:
                    self._idle += 1
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                # Idle before the caller hears back, so its next call can reuse this thread.
                with self._lock:
                    self._idle += 1
                future.set_exception(exc)
            else:
                with self._lock:
                    self._idle += 1
                future.set_result(result)
            del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop idle threads; busy ones finish their call first (stuck ones are abandoned)."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join(timeout=0.1)
