"""A crash in any server component: restarted with backoff, or the server stops and requeues.

Each test injects a crash into one component's per-tick method (the class attribute, so the
component the server builds at start picks it up) and runs a real Server on a real Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

import asynq
from asynq._base import keys
from asynq.server import Config, Server
from asynq.server import _supervisor as supervisor
from asynq.server._aggregator import Aggregator
from asynq.server._forwarder import Forwarder
from asynq.server._healthcheck import HealthChecker
from asynq.server._heartbeat import Heartbeat
from asynq.server._janitor import Janitor
from asynq.server._processor import Processor
from asynq.server._recoverer import Recoverer
from asynq.server._subscriber import Subscriber
from asynq.server._supervisor import Backoff, CrashPolicy, Supervisor
from asynq.server._syncer import Syncer
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST, Sleeper, state
from tests.server.test_components import make_active

Q = "default"


class Injected(RuntimeError):
    """The crash the tests inject."""


class CrashOnce:
    """Replaces ``cls.method``: the first call raises :class:`Injected`, later ones run the
    original and are counted when they return."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> None:
        self.calls = 0
        self.ok_after_crash = 0
        original = getattr(cls, method)

        async def patched(component: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise Injected(f"{cls.__name__}.{method} crashed")
            result = await original(component, *args, **kwargs)
            self.ok_after_crash += 1
            return result

        monkeypatch.setattr(cls, method, patched)


@pytest.fixture(autouse=True)
def quick_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_BACKOFF", Backoff(first=0.05, cap=0.2))


@pytest.fixture
def crash_log(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[str], list[str]]]:
    caplog.set_level(logging.INFO, logger="asynq.server")

    def messages(component: str) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if f"component {component} crashed" in r.getMessage()
        ]

    yield messages


# -- the supervisor alone ---------------------------------------------------------------------


async def test_restarts_back_off_doubling_up_to_the_cap(caplog):
    caplog.set_level(logging.ERROR, logger="test.supervisor")
    runs = 0

    async def always_crashes() -> None:
        nonlocal runs
        runs += 1
        raise Injected("boom")

    fatal: list[str] = []
    sup = Supervisor(
        logging.getLogger("test.supervisor"),
        on_fatal=lambda name, exc: fatal.append(name),
        backoff=Backoff(first=0.01, cap=0.04),
    )
    sup.start("janitor", CrashPolicy.RESTART, always_crashes)
    await wait_until(lambda: runs >= 5)
    assert sup.running("janitor")  # still supervised, never given up
    await sup.stop_all()
    assert not sup.running("janitor")
    crashes = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert all(r.exc_info and isinstance(r.exc_info[1], Injected) for r in crashes)
    delays = [r.args[2] for r in crashes[:4]]  # type: ignore[index]
    assert delays == [0.01, 0.02, 0.04, 0.04]
    assert fatal == []


async def test_a_stop_component_is_reported_once_and_not_restarted():
    runs = 0

    async def crashes() -> None:
        nonlocal runs
        runs += 1
        raise Injected("boom")

    fatal: list[tuple[str, BaseException]] = []
    sup = Supervisor(
        logging.getLogger("test.supervisor"),
        on_fatal=lambda name, exc: fatal.append((name, exc)),
        backoff=Backoff(first=0.01, cap=0.04),
    )
    sup.start("processor", CrashPolicy.STOP, crashes)
    await wait_until(lambda: fatal)
    await asyncio.sleep(0.05)
    assert runs == 1 and not sup.running("processor")
    assert fatal[0][0] == "processor" and isinstance(fatal[0][1], Injected)


# -- restarted components, in a real server ----------------------------------------------------


async def test_janitor_restarts_and_deletes_expired_completed(
    monkeypatch, start_server, client, r, crash_log
):
    crash = CrashOnce(monkeypatch, Janitor, "clean_once")
    await start_server(lambda task: None)
    info = client.enqueue(asynq.Task("t", b""), retention=1)
    await wait_until(lambda: state(r, Q, info.id) == "completed")
    await wait_until(lambda: not r.exists(keys.task_key(Q, info.id)), within=10)
    await wait_until(lambda: crash.ok_after_crash >= 1)
    assert len(crash_log("janitor")) == 1


async def test_forwarder_restarts_and_forwards(monkeypatch, start_server, client, crash_log):
    crash = CrashOnce(monkeypatch, Forwarder, "forward_once")
    done: list[str] = []
    await start_server(lambda task: done.append(task.id))
    info = client.enqueue(asynq.Task("later", b""), process_in=1)
    await wait_until(lambda: done == [info.id], within=10)
    await wait_until(lambda: crash.ok_after_crash >= 1)
    assert len(crash_log("forwarder")) == 1


async def test_recoverer_restarts_and_recovers(monkeypatch, start_server, client, r, crash_log):
    crash = CrashOnce(monkeypatch, Recoverer, "recover_once")
    ids = make_active(client, r, {"orphan": int(time.time()) - 40})
    await start_server(lambda task: None, retry_delay_func=lambda *a: 100)
    # Its first pass (at start) crashed; the restarted one recovers at once.
    await wait_until(lambda: state(r, Q, ids["orphan"]) == "retry")
    await wait_until(lambda: crash.ok_after_crash >= 1)
    assert len(crash_log("recoverer")) == 1


async def test_syncer_restarts_and_retries_failed_writes(
    monkeypatch, start_server, client, r, crash_log
):
    monkeypatch.setattr("asynq.server._syncer.SYNC_INTERVAL", 0.1)
    crash = CrashOnce(monkeypatch, Syncer, "sync_once")
    release = asyncio.Event()
    sleeper = Sleeper()

    async def handler(task: asynq.Task) -> None:
        sleeper.started.set()
        await release.wait()

    server = await start_server(handler)
    info = client.enqueue(asynq.Task("t", b""))
    await asyncio.wait_for(sleeper.started.wait(), 5)
    r.lrem(keys.active_key(Q), 0, info.id)  # the outcome write fails: NOT FOUND
    release.set()
    assert server._parts is not None
    await wait_until(lambda: server._parts.syncer.pending == 1)  # type: ignore[union-attr]
    await wait_until(lambda: crash.calls >= 2)
    r.lpush(keys.active_key(Q), info.id)
    await wait_until(lambda: not r.exists(keys.task_key(Q, info.id)))  # the write went through
    assert len(crash_log("syncer")) == 1


async def test_healthcheck_restarts_and_reports(monkeypatch, start_server, crash_log):
    crash = CrashOnce(monkeypatch, HealthChecker, "check_once")
    results: list[BaseException | None] = []
    await start_server(
        lambda task: None, health_check_func=results.append, health_check_interval=0.1
    )
    await wait_until(lambda: len(results) >= 2)
    assert results[:2] == [None, None]
    await wait_until(lambda: crash.ok_after_crash >= 2)
    assert len(crash_log("healthcheck")) == 1


async def test_aggregator_restarts_after_a_crashed_check(
    monkeypatch, start_server, client, crash_log
):
    crash = CrashOnce(monkeypatch, Aggregator, "aggregate_once")
    done: list[bytes] = []

    def batch(group: str, tasks: list[asynq.Task]) -> asynq.Task:
        return asynq.Task("batch", b"|".join(t.payload for t in tasks))

    await start_server(
        lambda task: done.append(task.payload),
        group_aggregator=batch,
        group_grace_period=1,
    )
    client.add_to_group(asynq.Task("t", b"a"), "g")
    client.add_to_group(asynq.Task("t", b"b"), "g")
    await wait_until(lambda: done, within=15)
    assert [sorted(payload.split(b"|")) for payload in done] == [[b"a", b"b"]]
    await wait_until(lambda: crash.ok_after_crash >= 1)
    assert len(crash_log("aggregator")) == 1


async def test_subscriber_restarts_and_listens_again(
    monkeypatch, redis_url, start_server, client, crash_log
):
    original = Subscriber.run
    runs = 0

    async def crash_after_subscribing(subscriber: Subscriber) -> None:
        nonlocal runs
        runs += 1
        if runs == 1:  # listen, then crash
            listening = asyncio.create_task(original(subscriber))
            await asyncio.wait_for(subscriber.subscribed.wait(), 5)
            listening.cancel()
            await asyncio.wait([listening])
            raise Injected("subscriber crashed")
        await original(subscriber)

    monkeypatch.setattr(Subscriber, "run", crash_after_subscribing)
    sleeper = Sleeper()
    server = await start_server(sleeper)
    await wait_until(lambda: runs == 2)
    assert server.subscriber is not None
    await asyncio.wait_for(server.subscriber.subscribed.wait(), 5)
    # Listening again: a cancellation reaches the running handler.
    info = client.enqueue(asynq.Task("t", b""))
    await asyncio.wait_for(sleeper.started.wait(), 5)
    inspector = asynq.Inspector(redis_url)
    try:
        inspector.cancel_processing(info.id)
    finally:
        inspector.close()
    await asyncio.wait_for(sleeper.cancelled.wait(), 5)
    assert len(crash_log("subscriber")) == 1


# -- components whose crash stops the server ----------------------------------------------------


async def _crash_with_a_task_in_flight(
    redis_url: str,
    client: asynq.Client,
    r: redis.Redis,
    arm: Callable[[], None],
) -> tuple[Server, str, BaseException]:
    """Serve a server whose handler hangs; once its task runs, ``arm()`` the crash; return the
    server, the task id and what serve() raised."""
    sleeper = Sleeper()
    server = Server(redis_url, Config(**{**FAST, "shutdown_timeout": 0.3}))
    serving = asyncio.create_task(server.serve(sleeper))
    info = client.enqueue(asynq.Task("t", b""))
    await asyncio.wait_for(sleeper.started.wait(), 10)
    assert state(r, Q, info.id) == "active"
    arm()
    with pytest.raises(asynq.ServerCrashedError) as raised:
        await asyncio.wait_for(serving, 15)
    return server, info.id, raised.value


def _armed(monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> Callable[[], None]:
    """A switch that makes every later call of ``cls.method`` raise."""
    original = getattr(cls, method)
    armed = False

    async def patched(component: Any, *args: Any, **kwargs: Any) -> Any:
        if armed:
            raise Injected(f"{cls.__name__}.{method} crashed")
        return await original(component, *args, **kwargs)

    monkeypatch.setattr(cls, method, patched)

    def arm() -> None:
        nonlocal armed
        armed = True

    return arm


@pytest.mark.parametrize(
    ("component", "cls", "method"),
    [("processor", Processor, "_idle"), ("heartbeat", Heartbeat, "beat")],
    ids=["processor", "heartbeat"],
)
async def test_a_vital_crash_stops_the_server_and_requeues(
    monkeypatch, redis_url, client, r, crash_log, component, cls, method
):
    if component == "heartbeat":
        monkeypatch.setattr("asynq.server._heartbeat.HEARTBEAT_INTERVAL", 0.1)
    arm = _armed(monkeypatch, cls, method)
    server, task_id, error = await _crash_with_a_task_in_flight(redis_url, client, r, arm)
    assert error.component == component  # type: ignore[attr-defined]
    assert isinstance(error.__cause__, Injected)
    assert f"its {component} crashed" in str(error)
    assert server.state == "closed"
    assert len(crash_log(component)) == 1
    # The running task went back to its queue, and the server's state is gone.
    assert state(r, Q, task_id) == "pending"
    assert r.lrange(keys.pending_key(Q), 0, -1) == [task_id.encode()]
    assert r.zcard(keys.ALL_SERVERS) == 0 and r.zcard(keys.ALL_WORKERS) == 0


async def test_a_started_server_shuts_itself_down_after_a_vital_crash(
    monkeypatch, redis_url, client, r
):
    """Without serve() (start() only) nobody waits for the crash: the server still closes."""
    arm = _armed(monkeypatch, Processor, "_idle")
    server = Server(redis_url, Config(**FAST))
    await server.start(lambda task: None)
    await wait_until(lambda: r.zcard(keys.ALL_SERVERS) == 1)
    arm()
    await wait_until(lambda: server.state == "closed")
    await server.shutdown()  # shares the shutdown the crash began
    assert r.zcard(keys.ALL_SERVERS) == 0
