"""Results of calls run in other threads, handed back to an event loop in batches.

``loop.run_in_executor`` wakes the event loop once per finished call (one
``call_soon_threadsafe``, one write to the loop's self-pipe, one extra loop iteration), on top
of a ``concurrent.futures.Future`` and its chaining to an asyncio future. When many short
calls finish close together, as plain ``def`` handlers do while a worker drains a queue,
those per-call wake-ups dominate. :class:`Handback` collects finished calls and wakes the
loop once for all those that finish before it runs: the first finisher schedules the flush,
the others only append.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any


class LoopCaller:
    """An executor that can run a call for the running event loop and hand its result back.

    A plain base class rather than a protocol: ``isinstance`` against it is cheap enough to
    ask once per task.
    """

    def call_for_loop(self, fn: Any, /, *args: Any) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` in a thread; the future (of the running loop) gets its outcome."""
        raise NotImplementedError


class Handback:
    """Sets the outcomes of thread calls on one loop's futures, one loop wake-up per batch."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._finished: deque[tuple[asyncio.Future[Any], BaseException | None, Any]] = deque()
        self._flush_scheduled = False

    def settle(self, future: asyncio.Future[Any], error: BaseException | None, result: Any) -> None:
        """Called from any thread: ``future`` ends with ``error`` if set, else ``result``."""
        with self._lock:
            self._finished.append((future, error, result))
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _flush(self) -> None:
        with self._lock:
            batch = list(self._finished)
            self._finished.clear()
            self._flush_scheduled = False
        for future, error, result in batch:
            if future.cancelled():  # its awaiter gave up (a deadline, a cancel)
                continue
            if error is None:
                future.set_result(result)
            elif isinstance(error, StopIteration):  # a future refuses it (TypeError)
                future.set_exception(RuntimeError(f"handler raised StopIteration: {error}"))
            else:
                future.set_exception(error)
