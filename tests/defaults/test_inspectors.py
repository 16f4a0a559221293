"""``asynq.get_inspector`` / ``asynq.get_async_inspector``: the default inspectors follow the
default clients' configuration, one per process (a fork gets its own) and one per event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis

import asynq
from tests.defaults._support import eventually
from tests.helpers.processes import report_from_fork


def test_the_inspector_reads_what_the_default_client_wrote(
    configured: Callable[[str], None], connections: Callable[[str], set[str]]
) -> None:
    configured("inspecting")
    info = asynq.get_client().enqueue(asynq.Task("t"), queue="seen")
    inspector = asynq.get_inspector()
    assert asynq.get_inspector() is inspector  # one per process
    assert inspector.get_task_info("seen", info.id).state == asynq.TaskState.PENDING
    assert connections("inspecting")

    configured("elsewhere")  # configure() replaces the inspector and closes the old one
    assert asynq.get_inspector() is not inspector
    assert asynq.get_inspector().get_queue_info("seen").pending == 1
    eventually(lambda: not connections("inspecting"))


def test_one_async_inspector_per_loop_closed_with_its_loop(
    configured: Callable[[str], None], connections: Callable[[str], set[str]]
) -> None:
    configured("async-inspecting")
    asynq.get_client().enqueue(asynq.Task("t"), queue="aseen")

    async def pending() -> tuple[asynq.AsyncInspector, int]:
        inspector = asynq.get_async_inspector()
        assert asynq.get_async_inspector() is inspector
        return inspector, (await inspector.get_queue_info("aseen")).pending

    first, count = asyncio.run(pending())
    second, _ = asyncio.run(pending())
    assert count == 1
    assert first is not second  # each loop its own: connections cannot cross loops
    # The blocking default client is still open; only the loops' inspectors are gone.
    eventually(lambda: len(connections("async-inspecting")) == 1)


def test_outside_an_event_loop_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        asynq.get_async_inspector()


def test_a_given_blocking_client_serves_the_blocking_inspector_only(
    redis_url: str, r: redis.Redis
) -> None:
    r.sadd("asynq:queues", "given")
    given = redis.Redis.from_url(redis_url)
    asynq.configure(given)
    try:
        assert asynq.get_inspector().queues() == ["given"]

        async def attempt() -> None:
            asynq.get_async_inspector()

        with pytest.raises(asynq.ValidationError, match="AsyncInspector per event loop"):
            asyncio.run(attempt())
    finally:
        asynq.configure()
    assert given.ping()  # the caller's client stays open
    given.close()


def test_a_forked_child_makes_its_own_inspector(configured: Callable[[str], None]) -> None:
    configured("forked-inspector")
    parent = asynq.get_inspector()
    asynq.get_client().enqueue(asynq.Task("t"), queue="forked")
    assert parent.get_queue_info("forked").pending == 1

    def child() -> dict[str, object]:
        inspector = asynq.get_inspector()
        return {"same": inspector is parent, "pending": inspector.get_queue_info("forked").pending}

    report = report_from_fork(child)
    assert report == {"same": False, "pending": 1}
    assert parent.get_queue_info("forked").pending == 1  # the parent's socket still works
