"""The example projects run as their READMEs say: plain (`asynq worker tasks:mux` + producer.py),
fastapi_orders and flask_shop (`python run.py` on an embedded Redis, and their tests), and
fastapi_orders' web app and worker process apart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


EXAMPLES = Path(__file__).resolve().parents[2] / "example_projects"


class RunningExample:
    """``python run.py --port <free port>`` in an example project, with ``unset`` left out of
    its environment (so it starts its own redis-server); on exit, SIGTERM and a clean stop.
    With ``ctrl_c``, it runs in a process group of its own and the exit signals SIGINT to the
    whole group, as Ctrl-C in a terminal does."""

    def __init__(self, project: str, unset: tuple[str, ...], *, ctrl_c: bool = False) -> None:
        from tests.helpers.redis_procs import free_port

        self.env = {k: v for k, v in os.environ.items() if k not in unset}
        self.cwd = EXAMPLES / project
        self.base = f"http://127.0.0.1:{free_port()}"
        self.out = ""
        self.ctrl_c = ctrl_c

    def __enter__(self) -> RunningExample:
        self.proc = subprocess.Popen(
            [sys.executable, "run.py", "--port", self.base.rsplit(":", 1)[1]],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=self.ctrl_c,
        )
        return self

    def wait_for(self, check: Any, what: str) -> Any:
        from tests.fastapi.processes import wait_for

        return wait_for(check, self.proc, what)

    def __exit__(self, *exc_info: object) -> None:
        if self.ctrl_c:
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGTERM)
        self.out, _ = self.proc.communicate(timeout=60)
        if exc_info[0] is not None:
            return
        assert self.proc.returncode == 0, self.out
        url = self.out.split("redis: ", 1)[1].split()[0]  # it started a redis-server...
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(url).ping()  # ...and stopped it on exit


def run_example_tests(project: str, unset: tuple[str, ...]) -> str:
    """Run ``python -m pytest`` in an example project; return its output once it passed."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLES / project,
        env={k: v for k, v in os.environ.items() if k not in unset},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


FASTAPI_SETTINGS = ("ASYNQ_REDIS_URL", "ASYNQ_WORKER")


def test_fastapi_project_runs_on_its_embedded_redis() -> None:
    import httpx

    with RunningExample("fastapi_orders", FASTAPI_SETTINGS) as example:
        base = example.base
        order = {"item": "lamp", "quantity": 2, "email": "ada@example.com"}
        placed = example.wait_for(lambda: httpx.post(f"{base}/orders", json=order), "the app")
        assert placed.status_code == 202, placed.text
        task_id = placed.json()["task_id"]
        done = example.wait_for(
            lambda: (
                (a := httpx.get(f"{base}/orders/{task_id}").json())["state"] == "fulfilled" and a
            ),
            "the receipt",
        )
        assert done["receipt"] == {"item": "lamp", "quantity": 2, "total_cents": 9000}
        assert httpx.get(f"{base}/asynq/").status_code == 401


def test_fastapi_project_stops_cleanly_on_ctrl_c() -> None:
    """Ctrl-C reaches the embedded redis-server too; it must outlive the app's shutdown, in
    which the embedded worker deregisters."""
    import httpx

    with RunningExample("fastapi_orders", FASTAPI_SETTINGS, ctrl_c=True) as example:
        base = example.base
        order = {"item": "pen", "quantity": 1, "email": "ada@example.com"}
        placed = example.wait_for(lambda: httpx.post(f"{base}/orders", json=order), "the app")
        task_id = placed.json()["task_id"]
        example.wait_for(
            lambda: httpx.get(f"{base}/orders/{task_id}").json()["state"] == "fulfilled",
            "the receipt",
        )
    assert "Application shutdown complete" in example.out
    assert "Error" not in example.out and "Failed" not in example.out, example.out


def test_fastapi_project_in_production_web_app_and_worker_process(redis_url: str) -> None:
    """The README's production pair: ``uvicorn orders.main:app`` queues, ``asynq worker
    orders.main:app`` fulfils inside the app's lifespan (the catalog it loaded reaches the
    task through ``Depends(get_catalog)``)."""
    import httpx

    from tests.helpers.redis_procs import free_port

    cwd = EXAMPLES / "fastapi_orders"
    env = {k: v for k, v in os.environ.items() if k not in FASTAPI_SETTINGS}
    env["ASYNQ_REDIS_URL"] = redis_url
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "orders.main:app", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        from tests.fastapi.processes import wait_for

        order = {"item": "pen", "quantity": 4, "email": "ada@example.com"}
        placed = wait_for(lambda: httpx.post(f"{base}/orders", json=order), web, "the app")
        assert placed.status_code == 202, placed.text
        status = f"{base}/orders/{placed.json()['task_id']}"
        assert httpx.get(status).json()["state"] == "waiting"  # no worker in the web app
        worker = subprocess.run(
            [sys.executable, "-m", "asynq", "worker", "orders.main:app", "--burst"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert worker.returncode == 0, worker.stderr
        answer = httpx.get(status).json()
    finally:
        web.send_signal(signal.SIGTERM)
        web.communicate(timeout=60)
    assert answer == {
        "state": "fulfilled",
        "receipt": {"item": "pen", "quantity": 4, "total_cents": 600},
    }


def test_fastapi_project_tests_pass() -> None:
    assert "6 passed" in run_example_tests("fastapi_orders", FASTAPI_SETTINGS)


FLASK_SETTINGS = ("ASYNQ_REDIS_URL", "SHOP_DATABASE_URL")


def test_flask_project_runs_on_its_embedded_redis() -> None:
    import httpx

    with RunningExample("flask_shop", FLASK_SETTINGS) as example:
        base = example.base
        created = example.wait_for(
            lambda: httpx.post(f"{base}/users", data={"email": "ada@example.com"}), "the app"
        )
        assert created.status_code == 201, created.text
        user = f"{base}/users/{created.json()['id']}"
        example.wait_for(lambda: httpx.get(user).json()["welcomed"], "the worker's welcome")
        assert httpx.get(f"{base}/asynq/").status_code == 200  # from this machine
    assert "Exiting" in example.out  # the worker stopped gracefully


def test_flask_project_tests_pass() -> None:
    assert "3 passed" in run_example_tests("flask_shop", FLASK_SETTINGS)
