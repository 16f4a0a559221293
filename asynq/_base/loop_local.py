"""One value per running event loop, made on first use and closed when that loop shuts down.

asyncio Redis connections belong to the loop that opened them: a connection opened under one
loop cannot be used from another, and a new loop per call is common (``asyncio.run`` in
scripts and tests, ``asgiref.sync.async_to_sync`` in Django). :class:`PerLoop` keeps one value
per loop so each loop gets its own connections.

**Closing with the loop.** asyncio has no "loop is closing" callback, but every loop runner
(``asyncio.run``, ``asyncio.Runner``, asgiref, uvicorn, pytest-asyncio) calls
``loop.shutdown_asyncgens()`` once its tasks are done and before ``loop.close()``. That call
closes every async generator first iterated on the loop. So each value gets a small async
generator, started on its loop and suspended at its only ``yield``; when the loop shuts its
generators down, the generator's ``finally`` awaits the value's close on that very loop.
A loop closed without that step (a bare ``loop.close()``) leaves its value behind; the next
new loop drops it (its connections are then closed by the garbage collector, not by us).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Slot(Generic[T]):
    """The value of one loop, and the async generator that closes it when the loop shuts down."""

    __slots__ = ("closer", "live", "loop", "value")

    def __init__(self, value: T, loop: asyncio.AbstractEventLoop) -> None:
        self.value = value
        self.loop = loop
        self.live = True  # False once dropped: the closer must then not close the value
        self.closer: AsyncGenerator[None, None] | None = None


def _step(coro: Coroutine[Any, Any, Any]) -> None:
    """Run ``coro`` up to completion without a loop; it must not wait on anything.

    Used on the closer generators' ``asend``/``aclose``, which only await when a live value
    is being closed (never on these paths).
    """
    try:
        coro.send(None)
    except StopIteration:
        return
    except (RuntimeError, StopAsyncIteration):
        return  # the generator is being run (or was finished) by its loop meanwhile
    coro.close()  # it waited on something after all; never leave it half-run


class PerLoop(Generic[T]):
    """``get()`` returns the value of the running event loop, making it with ``make`` on first
    use; the value is closed with ``close`` (awaited on its loop) when the loop shuts down.

    Thread-safe: each thread runs its own loop and gets its own value.
    """

    def __init__(self, make: Callable[[], T], close: Callable[[T], Awaitable[Any]]) -> None:
        self._make = make
        self._close = close
        self._lock = threading.Lock()
        # Keyed by the loop itself: the values hold their loop anyway (their connections and
        # their closer generator reference it), so a weak key would never be released; entries
        # leave when their loop shuts down, or once found closed.
        self._slots: dict[asyncio.AbstractEventLoop, _Slot[T]] = {}

    def get(self) -> T:
        """The value of the running loop.

        Raises:
            RuntimeError: called outside a running event loop.
        """
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is not None:
            return slot.value
        with self._lock:
            slot = self._slots.get(loop)
            if slot is None:
                self._drop_closed_loops()
                slot = self._slots[loop] = _Slot(self._make(), loop)
                slot.closer = self._closer(slot)
                # Creating the first step registers the generator with the running loop (its
                # first-iteration hook); stepping it parks it at its ``yield``.
                _step(slot.closer.asend(None))
        return slot.value

    def clear(self) -> list[T]:
        """Forget every value and close those whose loops still run (closed on their loop, in
        the background); return the values forgotten."""
        with self._lock:
            slots = list(self._slots.values())
            self._slots.clear()
        for slot in slots:
            self._retire(slot)
            if not slot.loop.is_closed():
                try:
                    asyncio.run_coroutine_threadsafe(self._closing(slot.value), slot.loop)
                except RuntimeError:
                    pass  # the loop closed meanwhile: its connections go with it
        return [slot.value for slot in slots]

    def forget_after_fork(self) -> None:
        """In a forked child: drop every value without closing it (its connections are the
        parent's) and replace the lock, which another thread may have held at the fork."""
        self._lock = threading.Lock()
        slots = list(self._slots.values())
        self._slots.clear()
        for slot in slots:
            self._retire(slot)

    async def _closing(self, value: T) -> None:
        await self._close(value)

    async def _closer(self, slot: _Slot[T]) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if slot.live:  # the loop is shutting its generators down
                with self._lock:
                    if self._slots.get(slot.loop) is slot:
                        del self._slots[slot.loop]
                slot.live = False
                await self._close(slot.value)

    def _retire(self, slot: _Slot[T]) -> None:
        """Mark ``slot`` dropped and finish its closer now, so the loop never runs it later."""
        slot.live = False
        if slot.closer is not None:
            _step(slot.closer.aclose())

    def _drop_closed_loops(self) -> None:
        for loop in [loop for loop in self._slots if loop.is_closed()]:
            self._retire(self._slots.pop(loop))
