"""Time sources. Everything that needs "now" takes a :class:`Clock`, so tests can move time."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where the library reads the current time from."""

    def now(self) -> float:
        """Unix time in seconds, with a fraction."""
        ...

    def now_ns(self) -> int:
        """Unix time in nanoseconds."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        """Unix time in seconds, with a fraction."""
        return time.time()

    def now_ns(self) -> int:
        """Unix time in nanoseconds."""
        return time.time_ns()


class FakeClock:
    """A clock that moves only when told to (Go's ``timeutil.SimulatedClock``)."""

    def __init__(self, start: float | None = None) -> None:
        self._ns = int((time.time() if start is None else start) * 1e9)

    def now(self) -> float:
        """The simulated Unix time in seconds."""
        return self._ns / 1e9

    def now_ns(self) -> int:
        """The simulated Unix time in nanoseconds."""
        return self._ns

    def set(self, unix: float) -> None:
        """Jump to ``unix`` seconds."""
        self._ns = int(unix * 1e9)

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``."""
        self._ns += int(seconds * 1e9)


SYSTEM_CLOCK = SystemClock()
