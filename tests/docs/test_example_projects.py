"""example_projects/plain runs as its README says: `asynq worker tasks:mux` + producer.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
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


FASTAPI_ORDERS = Path(__file__).resolve().parents[2] / "example_projects" / "fastapi_orders"


def test_fastapi_project_runs_on_its_embedded_redis() -> None:
    import httpx

    from tests.fastapi.processes import wait_for
    from tests.helpers.redis_procs import free_port

    env = {k: v for k, v in os.environ.items() if k not in ("ASYNQ_REDIS_URL", "ASYNQ_WORKER")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = subprocess.Popen(
        [sys.executable, "run.py", "--port", str(port)],
        cwd=FASTAPI_ORDERS,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        order = {"item": "lamp", "quantity": 2, "email": "ada@example.com"}
        placed = wait_for(lambda: httpx.post(f"{base}/orders", json=order), app, "the app")
        assert placed.status_code == 202, placed.text
        task_id = placed.json()["task_id"]
        done = wait_for(
            lambda: (
                (a := httpx.get(f"{base}/orders/{task_id}").json())["state"] == "fulfilled" and a
            ),
            app,
            "the receipt",
        )
        assert done["receipt"] == {"item": "lamp", "quantity": 2, "total_cents": 9000}
        assert httpx.get(f"{base}/asynq/").status_code == 401
    finally:
        app.send_signal(signal.SIGTERM)
        out, _ = app.communicate(timeout=30)
    assert app.returncode == 0, out
    url = out.split("redis: ", 1)[1].split()[0]  # it started a redis-server of its own...
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url).ping()  # ...and stopped it on exit


def test_fastapi_project_tests_pass() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ASYNQ_REDIS_URL", "ASYNQ_WORKER")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=FASTAPI_ORDERS,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


FLASK_SHOP = Path(__file__).resolve().parents[2] / "example_projects" / "flask_shop"
_OWN_SETTINGS = ("ASYNQ_REDIS_URL", "SHOP_DATABASE_URL")


def test_flask_project_runs_on_its_embedded_redis() -> None:
    import httpx

    from tests.fastapi.processes import wait_for
    from tests.helpers.redis_procs import free_port

    env = {k: v for k, v in os.environ.items() if k not in _OWN_SETTINGS}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = subprocess.Popen(
        [sys.executable, "run.py", "--port", str(port)],
        cwd=FLASK_SHOP,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        created = wait_for(
            lambda: httpx.post(f"{base}/users", data={"email": "ada@example.com"}), app, "the app"
        )
        assert created.status_code == 201, created.text
        user = f"{base}/users/{created.json()['id']}"
        wait_for(lambda: httpx.get(user).json()["welcomed"], app, "the worker's welcome")
        assert httpx.get(f"{base}/asynq/").status_code == 200  # from this machine
    finally:
        app.send_signal(signal.SIGTERM)
        out, _ = app.communicate(timeout=60)
    assert app.returncode == 0, out
    assert "Exiting" in out  # the worker stopped gracefully
    url = out.split("redis: ", 1)[1].split()[0]  # it started a redis-server of its own...
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url).ping()  # ...and stopped it on exit


def test_flask_project_tests_pass() -> None:
    env = {k: v for k, v in os.environ.items() if k not in _OWN_SETTINGS}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=FLASK_SHOP,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
