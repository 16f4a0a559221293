"""The thread pool that runs plain ``def`` handlers.

A thread cannot be killed: a handler that hangs past its deadline keeps its thread. The
server fails such a task on time and frees its concurrency slot anyway, so the pool must not
have a fixed size, or a few stuck handlers would starve every later task. This executor
starts a new thread only when work waits and every thread is busy with a call; idle threads
exit after a while. The number of threads is therefore at most one more than the handlers
running, counted by task (at most ``concurrency``), plus the abandoned ones still stuck.

Waking a parked thread costs a system call and, worse, a hand-over of the GIL; waking one per
call, as a plain pool does, makes that hop the largest cost of a short handler. So calls wait
in one queue, and the pool keeps just one *spare* thread awake while work waits: a spare is a
thread that is not running a call and will look at the queue before it parks. A spare that
takes a call while more wait wakes the next spare first, so a call that blocks never holds up
the ones behind it; a thread that finishes a call is a spare again and takes the next call
itself, with no wake-up at all. A burst of short calls therefore runs on one or two threads
with one wake-up or two, instead of one each.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
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
    """Runs each submitted call on a free thread, starting a new daemon thread if none is free.

    Threads are daemons so that a handler stuck forever cannot keep the process alive after
    the server has shut down. :meth:`call_for_loop` is the server's path for handlers: it
    hands results back to the event loop in batches (see :mod:`asynq._base.loop_handback`).
    """

    def __init__(self, name_prefix: str = "asynq-worker", idle_timeout: float = _IDLE_EXIT):
        self._prefix = name_prefix
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()
        #: Calls not taken by a thread yet, oldest first.
        self._ready: deque[_WorkItem] = deque()
        #: Threads awake and not running a call: each looks at ``_ready`` before it parks.
        #: Whenever ``_ready`` is not empty, at least one spare exists.
        self._spare = 0
        #: The wake-up locks of parked threads (each held; releasing one wakes its thread),
        #: the most recently parked last: it is woken first, so surplus threads age out.
        self._parked: list[threading.Lock] = []
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
            self._ready.append(item)
            if self._spare == 0:
                try:
                    self._add_spare()
                except BaseException:  # no thread to run it (the system's limit): refuse it
                    self._ready.pop()
                    raise

    def _add_spare(self) -> None:
        """Wake a parked thread, or start one (called with ``_lock`` held).

        Raises:
            RuntimeError: a new thread could not be started.
        """
        if self._parked:
            self._parked.pop().release()
            self._spare += 1
            return
        wake = threading.Lock()
        wake.acquire()
        thread = threading.Thread(
            target=self._run, args=(wake,), name=f"{self._prefix}-{next(_names)}", daemon=True
        )
        thread.start()  # it waits for ``_lock`` before it does anything
        self._threads.add(thread)
        self._spare += 1

    @property
    def thread_count(self) -> int:
        """Threads alive now (busy, idle or stuck)."""
        with self._lock:
            return len(self._threads)

    def _run(self, wake: threading.Lock) -> None:
        """A thread's life: take calls while there are any, park in between (as a spare)."""
        me = threading.current_thread()
        while True:
            with self._lock:
                if self._ready:
                    item = self._ready.popleft()
                    self._spare -= 1
                    # Keep a spare awake for the calls behind this one, in case it blocks.
                    if self._ready and self._spare == 0:
                        try:
                            self._add_spare()
                        except RuntimeError:  # they wait for this thread instead
                            pass
                elif self._shutdown:
                    self._spare -= 1
                    self._threads.discard(me)
                    return
                else:
                    self._spare -= 1
                    self._parked.append(wake)
                    item = None
            if item is None:
                if not self._park(wake):
                    with self._lock:
                        self._threads.discard(me)
                    return
                continue
            self._call(item)
            del item

    def _park(self, wake: threading.Lock) -> bool:
        """Sleep until woken as a spare (true), or until the idle timeout (false: exit)."""
        if wake.acquire(timeout=self._idle_timeout):
            return True
        with self._lock:
            if wake in self._parked:  # nobody claimed this thread: leave
                self._parked.remove(wake)
                return False
        # Claimed just as the wait timed out: the release is made or about to be; take it.
        wake.acquire()
        return True

    def _call(self, item: _WorkItem) -> None:
        future, fn, args, extra = item
        del item
        if future is None:
            assert isinstance(extra, tuple)
            handback, loop_future = extra
            # Reading cancelled() from this thread is a plain attribute read; a cancel racing
            # it only means the call runs and its outcome is dropped, as for a started call.
            if loop_future.cancelled():
                self._free()
                return
            try:
                result = fn(*args)
            except BaseException as exc:
                # A spare again before the caller hears back: its next call needs no wake-up.
                self._free()
                handback.settle(loop_future, exc, None)
            else:
                self._free()
                handback.settle(loop_future, None, result)
            return
        assert isinstance(extra, dict)
        if not future.set_running_or_notify_cancel():
            self._free()
            return
        try:
            result = fn(*args, **extra)
        except BaseException as exc:
            self._free()
            future.set_exception(exc)
        else:
            self._free()
            future.set_result(result)

    def _free(self) -> None:
        with self._lock:
            self._spare += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop idle threads; busy ones finish their call first (stuck ones are abandoned).

        Calls already queued still run."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
            while self._parked:
                self._spare += 1
                self._parked.pop().release()
        if wait:
            for thread in threads:
                thread.join(timeout=0.1)
