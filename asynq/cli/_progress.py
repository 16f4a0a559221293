"""A one-line progress display on stderr for long bulk operations.

It draws only when stderr is a terminal, so pipes, logs and ``--json`` output stay clean. With a
``total`` it shows ``label [#####     ] 3/10``; without one (a single long Redis call) it spins and
shows the elapsed time.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import Self, TextIO

_SPINNER = "|/-\\"
_BAR = 24


class Progress:
    """Context manager drawing progress of ``label`` on ``stream`` (stderr by default).

    Args:
        label: What is being done, e.g. ``"Deleting archived tasks"``.
        total: Number of steps, or ``None`` for an operation of unknown length.
        stream: Where to draw; defaults to ``sys.stderr``.
        interval: Seconds between redraws of the spinner.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        interval: float = 0.1,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._interval = interval
        self._enabled = bool(getattr(self._stream, "isatty", lambda: False)())
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._frame = 0

    @property
    def enabled(self) -> bool:
        """Whether anything is drawn (stderr is a terminal)."""
        return self._enabled

    def __enter__(self) -> Self:
        if self._enabled:
            self._draw()
            if self.total is None:
                self._thread = threading.Thread(target=self._spin, daemon=True)
                self._thread.start()
        return self

    def advance(self, steps: int = 1) -> None:
        """Record ``steps`` more finished steps and redraw."""
        self.done += steps
        if self._enabled:
            self._draw()

    def _spin(self) -> None:
        while not self._stop.wait(self._interval):
            self._frame += 1
            self._draw()

    def _line(self) -> str:
        if self.total is None:
            elapsed = time.monotonic() - self._start
            return f"{self.label} {_SPINNER[self._frame % len(_SPINNER)]} {elapsed:.1f}s"
        filled = _BAR * self.done // self.total if self.total else _BAR
        bar = "#" * filled + " " * (_BAR - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total}"

    def _draw(self) -> None:
        with self._lock:
            self._stream.write("\r\x1b[2K" + self._line())
            self._stream.flush()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._enabled:
            with self._lock:
                self._stream.write("\r\x1b[2K")
                self._stream.flush()
