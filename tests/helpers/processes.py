"""Child processes in tests: reap them whatever happens, and wait on them while they run."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


class Children:
    """Child processes started by a test; on exit, those still running are killed, and all
    are waited for (their pipes closed)."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[str]] = []

    def start(self, argv: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
        """Start ``argv`` with its stdout and stderr piped as text."""
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._procs.append(proc)
        return proc

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc_info: object) -> None:
        reap(self._procs)


def reap(procs: Iterable[subprocess.Popen[Any]]) -> None:
    """Kill each process still running, then wait for it (closing its pipes)."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def wait_while_running(
    check: Callable[[], Any], proc: subprocess.Popen[str], what: str, within: float = 30.0
) -> Any:
    """Poll ``check`` until it returns something truthy and return that; fail at once, with the
    child's output, if ``proc`` exits first."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"process exited early: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
