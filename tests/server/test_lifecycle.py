"""Server states, serve()/shutdown() embedding, signals, and recovery after a SIGKILL."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

import asynq
from asynq._base import keys
from asynq._base.codec import ServerInfoMessage
from asynq._broker.drivers import AsyncDriver
from asynq.server import Config, Server
from asynq.server._forwarder import Forwarder
from asynq.server._recoverer import Recoverer
from tests.helpers.processes import reap
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST, state

Q = "default"
ROOT = Path(__file__).resolve().parents[2]


async def test_states_and_errors(redis_url):
    server = Server(redis_url, Config(**FAST))
    assert server.state == "new"
    await server.shutdown()  # no-op before start
    with pytest.raises(asynq.ValidationError):
        await server.start(None)  # type: ignore[arg-type]
    await server.start(lambda task: None)
    assert server.state == "active"
    with pytest.raises(asynq.AsynqError, match="already running"):
        await server.start(lambda task: None)
    server.stop()
    assert server.state == "stopped"
    server.stop()
    await server.shutdown()
    await server.shutdown()
    assert server.state == "closed"
    with pytest.raises(asynq.AsynqError, match="Server closed"):
        await server.start(lambda task: None)


async def test_serve_until_shutdown(redis_url, client, r):
    done: list[str] = []
    server = Server(redis_url, Config(**FAST))
    serving = asyncio.create_task(server.serve(lambda task: done.append(task.id)))
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: done == [info.id])
    await server.shutdown()
    await asyncio.wait_for(serving, 5)
    assert server.state == "closed"


async def test_cancelling_serve_shuts_down(redis_url, r):
    server = Server(redis_url, Config(**FAST))
    serving = asyncio.create_task(server.serve(lambda task: None))
    await wait_until(lambda: r.zcard(keys.ALL_SERVERS) == 1)
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert server.state == "closed"
    assert r.zcard(keys.ALL_SERVERS) == 0


@pytest.fixture
def start_worker(
    redis_url: str, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """``start_worker(**env)`` → a ``tests.server.worker_proc`` process (killed at teardown;
    its output is in ``tmp_path/worker-<n>.log``)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        with open(tmp_path / f"worker-{len(procs)}.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.server.worker_proc", redis_url],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
        return proc

    yield start
    reap(procs)


def _server_info(r: redis.Redis) -> ServerInfoMessage | None:
    members = r.zrange(keys.ALL_SERVERS, 0, -1)
    if not members:
        return None
    data = r.get(members[0])
    return ServerInfoMessage.FromString(data) if data else None


async def test_sigtstp_stops_and_sigterm_requeues(start_worker, client, r):
    proc = start_worker(SHUTDOWN_TIMEOUT="0.5", HEARTBEAT="0.2", CONCURRENCY="1")
    await wait_until(lambda: _server_info(r), within=15)
    info = client.enqueue(asynq.Task("sleep", b"30"))
    await wait_until(lambda: state(r, Q, info.id) == "active")
    proc.send_signal(signal.SIGTSTP)
    await wait_until(lambda: (_server_info(r) or ServerInfoMessage()).status == "stopped")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert state(r, Q, info.id) == "pending"
    assert r.lrange(keys.pending_key(Q), 0, -1) == [info.id.encode()]
    assert r.zcard(keys.ALL_SERVERS) == 0 and r.zcard(keys.ALL_WORKERS) == 0


async def test_second_sigint_requeues_at_once(start_worker, client, r):
    proc = start_worker(SHUTDOWN_TIMEOUT="60", CONCURRENCY="2", HEARTBEAT="0.2")
    await wait_until(lambda: _server_info(r), within=15)
    ids = [client.enqueue(asynq.Task("sleep", b"60")).id for _ in range(2)]
    await wait_until(lambda: all(state(r, Q, tid) == "active" for tid in ids))
    proc.send_signal(signal.SIGINT)
    await wait_until(lambda: (_server_info(r) or ServerInfoMessage()).status == "closed")
    proc.send_signal(signal.SIGINT)
    # Without the second signal this would wait the 60 s shutdown timeout.
    assert proc.wait(15) == 0
    assert sorted(m.decode() for m in r.lrange(keys.pending_key(Q), 0, -1)) == sorted(ids)


async def test_run_exits_non_zero_after_a_vital_crash(start_worker, client, r, tmp_path):
    proc = start_worker(CRASH_HEARTBEAT="1", HEARTBEAT="0.2", CONCURRENCY="1")
    await wait_until(lambda: _server_info(r), within=15)
    info = client.enqueue(asynq.Task("sleep", b"30"))
    assert proc.wait(15) == 1
    assert state(r, Q, info.id) == "pending"  # requeued by the graceful shutdown
    assert r.lrange(keys.pending_key(Q), 0, -1) == [info.id.encode()]
    assert r.zcard(keys.ALL_SERVERS) == 0 and r.zcard(keys.ALL_WORKERS) == 0
    output = (tmp_path / "worker-0.log").read_text()
    assert "component heartbeat crashed; shutting the server down" in output
    assert "ServerCrashedError: asynq: the server shut down because its heartbeat crashed" in output


def test_run_outside_the_main_thread(redis_url, client, r, caplog):
    """No signal handling there: run() says so and still runs until shutdown()."""
    caplog.set_level(logging.WARNING)
    server = Server(redis_url, Config(**FAST))
    done: list[str] = []

    async def handler(task: asynq.Task) -> None:
        done.append(task.id)
        asyncio.get_running_loop().create_task(server.shutdown())

    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(handler)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    info = client.enqueue(asynq.Task("t", b""))
    thread.join(15)
    assert not thread.is_alive() and errors == []
    assert done == [info.id] and server.state == "closed"
    assert r.zcard(keys.ALL_SERVERS) == 0
    assert any("Cannot handle SIGTERM, SIGINT, SIGTSTP here" in m for m in caplog.messages)


async def test_sigkill_then_recover_loses_nothing(start_worker, redis_url, client, r):
    """A worker killed with tasks in flight: the recoverer (leases made to look expired) sends
    them to retry and another worker completes every task."""
    ids = [client.enqueue(asynq.Task("sleep", b"1.5")).id for _ in range(12)]
    proc = start_worker(CONCURRENCY="4")
    await wait_until(lambda: r.llen("test:done") >= 2, within=20)
    await wait_until(lambda: r.llen(keys.active_key(Q)) > 0)
    proc.kill()
    proc.wait(10)
    in_flight = [m.decode() for m in r.lrange(keys.active_key(Q), 0, -1)]
    assert in_flight, "the worker was killed between tasks; nothing to recover"
    # Pretend the crash happened long ago: leases expired more than 30 s back.
    past = int(time.time()) - 60
    r.zadd(keys.lease_key(Q), {tid: past for tid in in_flight})

    driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    log = logging.getLogger("test")
    recoverer = Recoverer(
        driver,
        asynq.SystemClock(),
        log,
        queues=[Q],
        retry_delay_func=lambda *a: 0,
        is_failure=lambda exc: True,
    )
    await recoverer.recover_once()
    assert all(state(r, Q, tid) == "retry" for tid in in_flight)
    await Forwarder(driver, asynq.SystemClock(), log, queues=[Q], interval=1).forward_once()
    await driver.close()

    async def handler(task: asynq.Task) -> None:
        r.rpush("test:done", task.id)

    server = Server(redis_url, Config(**FAST))
    await server.start(handler)
    try:
        await wait_until(lambda: set(ids) <= {d.decode() for d in r.lrange("test:done", 0, -1)})
        await wait_until(lambda: not any(r.exists(keys.task_key(Q, tid)) for tid in ids))
    finally:
        await server.shutdown()
    assert r.llen(keys.active_key(Q)) == 0 and r.zcard(keys.lease_key(Q)) == 0
    for tid in in_flight:  # they failed once (lease expired), then succeeded
        assert tid.encode() in r.lrange("test:done", 0, -1)
