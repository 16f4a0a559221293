"""``flask asynq ...`` in real subprocesses: the worker drains tasks that use the database, under
``flask --app factory`` and ``FLASK_APP`` alike; the other commands; bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

import asynq
from asynq_flask import Asynq
from tests.flask_adapter import shop
from tests.helpers.processes import Children, wait_while_running
from tests.helpers.unreachable import assert_burst_refused, nowhere

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask"]


@pytest.fixture
def env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASYNQ_REDIS_URL": redis_url,
        "SHOP_DATABASE_URI": f"sqlite:///{tmp_path / 'shop.db'}",
    }


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[object]:
    """The same app in this process (same Redis, same database file), to enqueue and check."""
    app = shop.create_app(
        ASYNQ_REDIS_URL=env["ASYNQ_REDIS_URL"], SQLALCHEMY_DATABASE_URI=env["SHOP_DATABASE_URI"]
    )
    with app.app_context():
        shop.db.session.add(shop.User(id=1, name="ada"))
        shop.db.session.commit()
    yield app
    with app.app_context():
        shop.db.engine.dispose()


def flask(
    env: dict[str, str], *argv: str, app_arg: bool = True
) -> subprocess.CompletedProcess[str]:
    prefix = [*FLASK, "--app", "tests.flask_adapter.shop:create_app"] if app_arg else FLASK
    return subprocess.run(
        [*prefix, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("how", ["--app", "FLASK_APP"])
def test_worker_drains_database_tasks_and_stops_cleanly(
    how: str, app: object, env: dict[str, str], r: redis.Redis
) -> None:
    with app.app_context():  # type: ignore[attr-defined]
        for _ in range(6):
            shop.welcome.enqueue(1)
        asynq_info = shop.async_hello.enqueue("hello")
    if how == "--app":
        argv = [*FLASK, "--app", "tests.flask_adapter.shop:create_app", "asynq", "worker"]
    else:
        env = {**env, "FLASK_APP": "tests.flask_adapter.shop:create_app"}
        argv = [*FLASK, "asynq", "worker"]
    with Children() as children:
        worker = children.start([*argv, "-c", "3", "-Q", "default=1"], env=env, cwd=ROOT)
        wait_while_running(
            lambda: r.zcard("asynq:{default}:completed") == 7, worker, "the worker to drain"
        )
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    with app.app_context():  # type: ignore[attr-defined]
        assert shop.db.session.get(shop.User, 1).welcomed == 6
        assert shop.async_hello.result(asynq_info) == "hello from shop"


def test_burst_worker_drains_then_exits_0_by_itself(app: object, env: dict[str, str]) -> None:
    with app.app_context():  # type: ignore[attr-defined]
        for _ in range(4):
            shop.welcome.enqueue(1)
    done = flask(env, "asynq", "worker", "--burst", "-c", "2")
    assert done.returncode == 0, done.stderr
    with app.app_context():  # type: ignore[attr-defined]
        assert shop.db.session.get(shop.User, 1).welcomed == 4


@pytest.mark.parametrize("command", ["flask asynq worker", "asynq worker app"])
def test_burst_worker_without_redis_exits_1_with_one_line(
    command: str, env: dict[str, str]
) -> None:
    url = nowhere()
    env = {**env, "ASYNQ_REDIS_URL": url}  # the app's Redis: nothing listens there
    if command == "flask asynq worker":
        done = flask(env, "asynq", "worker", "--burst")
    else:
        argv = ["-m", "asynq", "worker", "tests.flask_adapter.shop:create_app", "--factory"]
        done = subprocess.run(
            [sys.executable, *argv, "--burst"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert_burst_refused(done.stderr, url)


def test_asynq_worker_runs_the_flask_apps_tasks_in_its_app_context(
    app: object, env: dict[str, str]
) -> None:
    """``asynq worker`` with the app (here from its factory) runs what ``flask asynq worker``
    runs: the extension's tasks, in app contexts, with the app's settings and the flags."""
    with app.app_context():  # type: ignore[attr-defined]
        for _ in range(3):
            shop.welcome.enqueue(1)
        info = shop.async_hello.enqueue("hi")
    argv = ["-m", "asynq", "worker", "tests.flask_adapter.shop:create_app", "--factory"]
    done = subprocess.run(
        [sys.executable, *argv, "--burst", "-c", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with app.app_context():  # type: ignore[attr-defined]
        assert shop.db.session.get(shop.User, 1).welcomed == 3
        assert shop.async_hello.result(info) == "hi from shop"


def test_worker_processes_share_the_database_but_not_its_connections(
    app: object, env: dict[str, str], r: redis.Redis
) -> None:
    """Two worker processes forked from an app whose factory opened the database
    (create_all): each runs its tasks on connections it opened itself; SIGTERM stops both."""
    with app.app_context():  # type: ignore[attr-defined]
        infos = [shop.connection_owner.enqueue() for _ in range(4)]
        infos += [shop.welcome.enqueue(1) for _ in range(4)]
    argv = [*FLASK, "--app", "tests.flask_adapter.shop:create_app", "asynq", "worker"]
    with Children() as children, asynq.Inspector(env["ASYNQ_REDIS_URL"]) as inspector:
        worker = children.start([*argv, "--processes", "2", "-c", "1"], env=env, cwd=ROOT)
        wait_while_running(
            lambda: r.zcard("asynq:{default}:completed") == 8, worker, "the tasks to run"
        )
        servers = {server.pid for server in inspector.servers()}
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert inspector.servers() == []
    assert len(servers) == 2 and worker.pid not in servers
    with app.app_context():  # type: ignore[attr-defined]
        owners = [shop.connection_owner.result(info) for info in infos[:4]]
        assert shop.db.session.get(shop.User, 1).welcomed == 4
    assert {owner["pid"] for owner in owners} <= servers
    assert all(owner["opened_in"] == owner["pid"] for owner in owners), owners


def test_asynq_worker_refuses_an_app_without_the_extension(env: dict[str, str]) -> None:
    argv = ["-m", "asynq", "worker", "tests.flask_adapter.shop:create_bare_app", "--factory"]
    done = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: the Flask app 'bare' has no asynq extension: call Asynq(app) or "
        "asynq.init_app(app) in the app factory"
    ]


def test_scheduler_runs_the_configured_factory_and_stops_cleanly(
    env: dict[str, str], r: redis.Redis
) -> None:
    argv = [*FLASK, "--app", "tests.flask_adapter.shop:create_app", "asynq", "scheduler"]
    with Children() as children:
        scheduler = children.start([*argv, "--factory"], env=env, cwd=ROOT)  # ASYNQ_SCHEDULER
        wait_while_running(
            lambda: r.llen("asynq:{default}:pending") >= 2, scheduler, "two periodic enqueues"
        )
        scheduler.send_signal(signal.SIGTERM)
        _, err = scheduler.communicate(timeout=30)
    assert scheduler.returncode == 0, err
    ids = r.lrange("asynq:{default}:pending", 0, -1)
    assert r.hget(b"asynq:{default}:t:" + ids[0], "msg") is not None


def test_stats_pause_and_unpause_act_on_the_apps_redis(
    app: object, env: dict[str, str], r: redis.Redis
) -> None:
    with app.app_context():  # type: ignore[attr-defined]
        shop.welcome.using(queue="mail").enqueue(1)

    paused = flask(env, "asynq", "pause", "mail")
    assert paused.returncode == 0, paused.stderr
    assert r.exists("asynq:{mail}:paused")
    stats = flask(env, "asynq", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert '"queue": "mail"' in stats.stdout and '"paused": true' in stats.stdout
    unpaused = flask(env, "asynq", "unpause", "mail")
    assert unpaused.returncode == 0, unpaused.stderr
    assert not r.exists("asynq:{mail}:paused")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["asynq", "worker", "-I", "shop.nowhere"], "shop.nowhere"),
        (["asynq", "worker", "-Q", "mail=fast"], "weight must be an integer"),
        (["asynq", "scheduler", "tests.flask_adapter.nowhere:x"], "nowhere"),
        (["asynq", "scheduler", "tests.flask_adapter.shop:db"], "is not an asynq Scheduler"),
        (["asynq", "unpause", "never-paused"], "error:"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    argv: list[str], needle: str, env: dict[str, str]
) -> None:
    done = flask(env, *argv)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_scheduler_without_a_target_says_what_to_set(make_app: Callable[..., Flask]) -> None:
    result = make_app(Asynq()).test_cli_runner().invoke(args=["asynq", "scheduler"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        'Error: give a TARGET or set ASYNQ_SCHEDULER to a "module:object"'
    ]


def test_flask_run_serves_views_that_enqueue_after_commit(
    env: dict[str, str], r: redis.Redis
) -> None:
    """The real development server in a subprocess: a sign-up sends its welcome, a failed one
    sends none."""
    import httpx

    from tests.helpers.redis_procs import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [*FLASK, "--app", "tests.flask_adapter.shop:create_app", "run", "--port", str(port)]
    with Children() as children:
        server = children.start(argv, env=env, cwd=ROOT)

        def sign_up(name: str, query: str = "") -> httpx.Response | None:
            try:
                return httpx.post(f"{base}/signup/{name}{query}")
            except httpx.TransportError:
                return None

        created = wait_while_running(lambda: sign_up("ada"), server, "the server")
        assert created.status_code == 200
        failed = sign_up("bob", "?fail=1")
        assert failed is not None and failed.status_code == 500
        server.terminate()
    (task_id,) = r.lrange("asynq:{default}:pending", 0, -1)
    msg = r.hget(b"asynq:{default}:t:" + task_id, "msg") or b""
    assert b"shop:welcome" in msg and b'{"user_id":1}' in msg
