"""The examples under docs/examples run as written, against a real Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "ASYNQ_REDIS_URL": url}


def _run(script: str, url: str) -> str:
    """Run an example script to completion; return its stdout."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def _start(args: list[str], url: str) -> subprocess.Popen[str]:
    """Start a long-running example process, its stderr merged into stdout."""
    return subprocess.Popen(
        [sys.executable, *args],
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_producer_then_worker_examples(redis_url: str, r: redis.Redis) -> None:
    out = _run("producer.py", redis_url)
    assert "already queued" in out
    assert r.llen("asynq:{critical}:pending") == 1
    assert r.zcard("asynq:{default}:scheduled") == 1
    assert r.llen("asynq:{default}:pending") == 101  # report + 100 images

    worker = _start([str(EXAMPLES / "worker.py")], redis_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = int(r.get("asynq:{default}:processed") or 0)
            done += int(r.get("asynq:{critical}:processed") or 0)
            if done == 102:
                break
            time.sleep(0.1)
        assert done == 102
        completed = r.zrange("asynq:{default}:completed", 0, -1)
        assert len(completed) == 1  # the report, kept for its retention with its result
        assert r.hget(b"asynq:{default}:t:" + completed[0], "result") == b"rows=123"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, out
    assert "took" in out  # the middleware ran


def test_task_functions_example(redis_url: str, r: redis.Redis) -> None:
    worker = _start(
        [
            *("-m", "asynq", "worker", "task_functions:asynq.default_registry"),
            *("--app-dir", str(EXAMPLES), "--queue", "critical=2", "--queue", "default=1"),
        ],
        redis_url,
    )
    try:
        out = _run("task_functions.py", redis_url)
        deadline = time.monotonic() + 30
        while int(r.get("asynq:{critical}:processed") or 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # the welcome email, done alongside the report
    finally:
        worker.send_signal(signal.SIGTERM)
        logs, _ = worker.communicate(timeout=30)
    assert "refused: task \"email:welcome\": got an unexpected keyword argument 'templat'" in out
    assert "enqueued task_functions.build_report " in out
    assert "report: {'year': 2026, 'month': 11, 'rows': 123}" in out
    assert "welcome ada@example.com (Plan.PRO, short) attempt 0" in logs
    assert worker.returncode == 0, logs
