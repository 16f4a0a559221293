"""PeriodicTaskManager: initial sync, diffing by Go's config hash, error handling."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import asynq
from asynq.errors import ValidationError
from asynq.periodic import PeriodicTaskConfig, PeriodicTaskManager
from tests.helpers.waiting import wait_until


class Provider:
    """A provider whose answer the test changes between syncs."""

    def __init__(self, configs: list[Any]) -> None:
        self.configs = configs
        self.calls = 0
        self.fail = False

    def get_configs(self) -> list[Any]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("config store down")
        return list(self.configs)


A = PeriodicTaskConfig("@every 1s", asynq.Task("a", b"1"), {"queue": "qa"})
B = PeriodicTaskConfig("@hourly", asynq.Task("b"))
C = PeriodicTaskConfig("*/5 * * * *", asynq.Task("c"), {"max_retry": 2, "timeout": 60})


@pytest.fixture
async def make_manager(redis_url: str) -> AsyncIterator[Callable[..., PeriodicTaskManager]]:
    made: list[PeriodicTaskManager] = []

    def make(provider: Any, **kwargs: Any) -> PeriodicTaskManager:
        kwargs.setdefault("heartbeat_interval", 0.2)
        m = PeriodicTaskManager(provider, redis_url, **kwargs)
        made.append(m)
        return m

    yield make
    for m in made:
        await m.shutdown()


def test_hash_is_gos() -> None:
    expected = hashlib.sha256(
        b"*/5 * * * *" + b"c" + b"" + b"MaxRetry(2)" + b"Timeout(1m0s)"  # options sorted
    ).hexdigest()
    assert C.hash() == expected
    same = PeriodicTaskConfig("*/5 * * * *", asynq.Task("c"), {"timeout": 60, "max_retry": 2})
    assert same.hash() == expected  # option order does not matter
    # Python-only parts (headers, the task's own options) count when present
    assert PeriodicTaskConfig("@hourly", asynq.Task("b", headers={"h": "1"})).hash() != B.hash()
    assert PeriodicTaskConfig("@hourly", asynq.Task("b", queue="x")).hash() != B.hash()


async def test_sync_keeps_unchanged_entries(make_manager, r) -> None:
    provider = Provider([A, B, B])  # a duplicate is registered once
    m = make_manager(provider)
    await m.start()
    first = m.entry_ids
    assert set(first) == {A.hash(), B.hash()}
    assert {e.id for e in m.scheduler.entries()} == set(first.values())

    provider.configs = [A, C]
    await m.sync()
    second = m.entry_ids
    assert second[A.hash()] == first[A.hash()]
    assert B.hash() not in second and C.hash() in second
    entries = {e.id: e for e in m.scheduler.entries()}
    assert set(entries) == set(second.values())
    assert entries[second[C.hash()]].opts == ["MaxRetry(2)", "Timeout(1m0s)"]
    await wait_until(lambda: r.llen("asynq:{qa}:pending") >= 1)
    key = f"asynq:schedulers:{{{m.scheduler.id}}}"
    await wait_until(lambda: r.llen(key) == 2)


async def test_sync_runs_every_interval(make_manager) -> None:
    provider = Provider([A])
    m = make_manager(provider, sync_interval=0.05)
    await m.start()
    provider.configs = [B]
    await wait_until(lambda: set(m.entry_ids) == {B.hash()})
    assert provider.calls >= 2


@pytest.mark.parametrize(
    "bad",
    [
        PeriodicTaskConfig("", asynq.Task("x")),
        PeriodicTaskConfig("not a spec", asynq.Task("x")),
        PeriodicTaskConfig("@daily", "not a task"),  # type: ignore[arg-type]
        PeriodicTaskConfig("@daily", asynq.Task("x"), {"queue": ""}),
        ("@daily", asynq.Task("x")),
    ],
)
async def test_initial_invalid_config_fails_start(make_manager, r, bad: Any) -> None:
    m = make_manager(Provider([A, bad]))
    with pytest.raises(ValidationError):
        await m.start()
    assert m.entry_ids == {} and m.scheduler.entries() == []
    await asyncio.sleep(0.3)
    assert r.zcard("asynq:schedulers") == 0


async def test_later_errors_leave_entries_alone(make_manager, caplog) -> None:
    caplog.set_level(logging.ERROR)
    provider = Provider([A, B])
    m = make_manager(provider)
    await m.start()
    before = m.entry_ids

    provider.configs = [A, PeriodicTaskConfig("bad spec", asynq.Task("x"))]
    await m.sync()
    assert m.entry_ids == before
    provider.fail = True
    await m.sync()
    assert m.entry_ids == before
    assert "config store down" in caplog.text
    assert {e.id for e in m.scheduler.entries()} == set(before.values())


async def test_async_and_callable_providers(make_manager) -> None:
    async def get_async() -> list[PeriodicTaskConfig]:
        return [A]

    m1 = make_manager(get_async)
    await m1.start()
    assert set(m1.entry_ids) == {A.hash()}

    class AsyncProvider:
        async def get_configs(self) -> list[PeriodicTaskConfig]:
            return [B]

    m2 = make_manager(AsyncProvider())
    await m2.start()
    assert set(m2.entry_ids) == {B.hash()}

    m3 = make_manager(lambda: [C])
    await m3.start()
    assert set(m3.entry_ids) == {C.hash()}


async def test_serve_and_shutdown_clean_up(make_manager, r) -> None:
    m = make_manager(Provider([A]))
    serving = asyncio.create_task(m.serve())
    key_pattern = "asynq:schedulers:*"
    await wait_until(lambda: r.keys(key_pattern))
    await m.shutdown()
    await asyncio.wait_for(serving, 5)
    assert r.keys(key_pattern) == [] and r.zcard("asynq:schedulers") == 0


async def test_shutdown_ends_a_sync_that_lost_its_cancellation(make_manager, r) -> None:
    # A provider reading its configs from Redis with redis-py can lose a cancellation on
    # Python 3.11 (asyncio.wait_for drops one that lands just as a send finishes); this one
    # loses the first, so the sync loop would go on and shutdown() wait for it forever.
    reading, hanging = asyncio.Event(), asyncio.Event()
    lost = 0

    async def get_configs() -> list[PeriodicTaskConfig]:
        nonlocal lost
        if not reading.is_set():  # the read of start()
            reading.set()
            return [A]
        hanging.set()
        try:
            await asyncio.sleep(3600)  # a read that hangs until cancelled
        except asyncio.CancelledError:
            if lost:
                raise
            lost += 1
        await asyncio.sleep(3600)  # ... and then the next one
        return [A]

    m = make_manager(get_configs, sync_interval=0.01)
    await m.start()
    await hanging.wait()  # the sync loop is inside the provider
    async with asyncio.timeout(10):  # bounds a hang, not a measure of speed
        await m.shutdown()
    assert lost == 1 and m.state == "closed"
    assert r.zcard("asynq:schedulers") == 0


def test_constructor_validation() -> None:
    with pytest.raises(ValidationError, match="provider"):
        PeriodicTaskManager(42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="sync_interval"):
        PeriodicTaskManager(Provider([]), sync_interval=0)
