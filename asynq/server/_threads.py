"""The thread pool that runs plain ``def`` handlers.

A thread cannot be killed: a handler that hangs past its deadline keeps its thread. The
server fails such a task on time and frees its concurrency slot anyway, so the pool must not
have a fixed size, or a few stuck handlers would starve every later task. This executor
starts a new thread whenever no idle one is available; idle threads exit after a while. The
number of threads is therefore the number of handlers running, counted by task (at most
``concurrency``), plus the abandoned ones still stuck.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

from asynq._base.loop_handback import Handback, LoopCaller

P = ParamSpec("P")
T = TypeVar("T")

_IDLE_EXIT = 60.0
_names = itertools.count(1)

#: A call from :meth:`~ElasticThreadExecutor.submit` (its future, kwargs), or from
#: :meth:`~ElasticThreadExecutor.call_for_loop` (no concurrent future; the handback and the
#: loop's future instead).
_WorkItem = (
    tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]
    | tuple[None, Callable[..., Any], tuple[Any, ...], tuple[Handback, asyncio.Future[Any]]]
)


class ElasticThreadExecutor(Executor, LoopCaller):
    """Runs each submitted call on an idle thread, starting a new daemon thread if none is idle.

    Threads are daemons so that a handler stuck forever cannot keep the process alive after
    the server has shut down. :meth:`call_for_loop` is the server's path for handlers: it
    hands results back to the event loop in batches (see :mod:`asynq._base.loop_handback`).
    """

    def __init__(self, name_prefix: str = "asynq-worker", idle_timeout: float = _IDLE_EXIT):
        self._prefix = name_prefix
        self._idle_timeout = idle_timeout
        self._work: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads: set[threading.Thread] = set()
        self._shutdown = False
        self._handback: Handback | None = None

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        self._put((future, fn, args, kwargs))
        return future

    def call_for_loop(self, fn: Callable[..., T], /, *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on a thread; return a future of the running loop for its outcome.

        Like ``loop.run_in_executor(self, fn, *args)``, minus its per-call overhead: the
        outcome is set through the loop's :class:`Handback`, which wakes the loop once for
        every call that finished meanwhile. Cancelling the future does not stop a call that
        has started (a thread cannot be stopped); one not started yet is skipped.
        """
        loop = asyncio.get_running_loop()
        handback = self._handback
        if handback is None or handback.loop is not loop:
            handback = self._handback = Handback(loop)
        future: asyncio.Future[T] = loop.create_future()
        self._put((None, fn, args, (handback, future)))
        return future

    def _put(self, item: _WorkItem) -> None:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            if self._idle > 0:
                self._idle -= 1  # that thread is claimed by this item
            else:
                self._start_thread()
            self._work.put(item)

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
            future, fn, args, extra = item
            del item
            if future is None:
                assert isinstance(extra, tuple)
                self._call_for_loop(fn, args, *extra)
                del fn, args, extra
                continue
            assert isinstance(extra, dict)
            kwargs = extra
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
            del future, fn, args, kwargs, extra

    def _call_for_loop(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        handback: Handback,
        future: asyncio.Future[Any],
    ) -> None:
        # Reading cancelled() from this thread is a plain attribute read; a cancel racing it
        # only means the call runs and its outcome is dropped, as for a started call.
        if future.cancelled():
            with self._lock:
                self._idle += 1
            return
        try:
            result = fn(*args)
        except BaseException as exc:
            with self._lock:
                self._idle += 1
            handback.settle(future, exc, None)
        else:
            with self._lock:
                self._idle += 1
            handback.settle(future, None, result)

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
