"""example_projects/plain runs as its README says: `asynq worker tasks:mux` + producer.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

PLAIN = Path(__file__).resolve().parents[2] / "example_projects" / "plain"


def test_plain_project_worker_and_producer(redis_url: str, r: redis.Redis) -> None:
    env = {**os.environ, "ASYNQ_REDIS_URL": redis_url}
    subprocess.run(
        [sys.executable, "producer.py", "5"],
        cwd=PLAIN,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asynq",
            "worker",
            "tasks:mux",
            "--concurrency",
            "4",
            "--queue",
            "critical=2",
            "--queue",
            "default=1",
        ],
        cwd=PLAIN,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and r.zcard("asynq:{default}:completed") < 5:
            time.sleep(0.1)
        assert r.zcard("asynq:{default}:completed") == 5
        assert int(r.get("asynq:{critical}:processed") or 0) == 1
        for task_id in r.zrange("asynq:{default}:completed", 0, -1):
            name, digest = r.hget(b"asynq:{default}:t:" + task_id, "result").split()
            assert name.startswith(b"file-") and len(digest) == 64
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, out
