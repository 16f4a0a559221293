"""Child processes in tests: reap them whatever happens, and wait on them while they run."""

from __future__ import annotations

import json
import os
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


def report_from_fork(child: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``child`` in a forked copy of this process; return the JSON-able dict it returned.

    The child never returns into pytest (it leaves with ``os._exit``); its exit status must be
    0, i.e. ``child`` must not raise.
    """
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(report_r)
            os.write(report_w, json.dumps(child()).encode() + b"\n")
            code = 0
        finally:
            os._exit(code)
    os.close(report_w)
    with os.fdopen(report_r) as reader:
        line = reader.readline()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the forked child failed"
    report: dict[str, Any] = json.loads(line)
    return report
