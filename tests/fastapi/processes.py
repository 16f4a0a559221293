"""Child processes of the FastAPI tests (uvicorn, ``python -m asynq_fastapi worker``): started
with this tree on ``PYTHONPATH``, killed and reaped whatever happens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextmanager
def child(argv: list[str], **env: str) -> Iterator[subprocess.Popen[str]]:
    """``sys.executable argv...`` running for the block; terminated (then killed) after."""
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        env=child_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.communicate(timeout=20)


def wait_for(check: Callable[[], Any], proc: subprocess.Popen[str], what: str) -> Any:
    """Poll ``check`` until truthy; fail with the child's output if it exits first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.TransportError:
            value = None
        if value:
            return value
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"{what}: the process exited ({proc.returncode}): {out}{err}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
