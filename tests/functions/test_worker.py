"""Task functions run by a real worker server on a real Redis: decoded arguments, stored
results, the current task, bad payloads archived at once, a registry mounted under a ServeMux
with middleware."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

import asynq
from asynq.servemux import Handler, call_handler
from tests.helpers.waiting import wait_until

registry = asynq.TaskRegistry()
calls: list[tuple[str, Any]] = []


@dataclass
class Address:
    city: str
    zip: str


@registry.task("fn:sync")
def sync_fn(user_id: int, address: Address, when: datetime, tags: list[str] | None = None) -> str:
    task = asynq.current_task()
    calls.append(("sync", (user_id, address, when, tags, task.id, threading.current_thread().name)))
    return f"{user_id}@{address.city}"


@registry.task("fn:async", retention=3600)
async def async_fn(numbers: list[int]) -> dict[str, int]:
    task = asynq.current_task()
    calls.append(("async", (numbers, task.id, task.retry_count)))
    return {"sum": sum(numbers)}


@registry.task("fn:takes-task", retention=3600)
def takes_task(task: asynq.ActiveTask, word: str) -> str:
    calls.append(("takes-task", (task.id, word)))
    return word.upper()


@registry.task("fn:none")
def returns_none() -> None:
    calls.append(("none", None))


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


def inspector(redis_url: str) -> asynq.Inspector:
    return asynq.Inspector(redis_url)


async def test_sync_and_async_functions_get_their_decoded_arguments(
    start_server: Any, client: asynq.Client
) -> None:
    await start_server(registry)
    when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    info = sync_fn.using(client=client).enqueue(7, Address("Paris", "75001"), when)
    async_info = async_fn.using(client=client).enqueue([1, 2, 3])
    await wait_until(lambda: len(calls) == 2)
    by_kind = dict(calls)
    user_id, address, got_when, tags, task_id, thread = by_kind["sync"]
    assert (user_id, address, got_when, tags) == (7, Address("Paris", "75001"), when, None)
    assert task_id == info.id
    assert thread.startswith("asynq-worker")  # a plain def runs in the handler thread pool
    assert by_kind["async"] == ([1, 2, 3], async_info.id, 0)


@pytest.fixture
async def aclient(redis_url: str) -> Any:
    c = asynq.AsyncClient(redis_url)
    yield c
    await c.close()


async def test_results_are_stored_as_json_and_read_back(
    start_server: Any, client: asynq.Client, aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    handle = async_fn.using(client=client).using(client=aclient)
    later = handle.enqueue_in(3600, [1])
    with pytest.raises(asynq.FailedPreconditionError, match="is scheduled, not completed"):
        await handle.aresult(later)
    await start_server(registry)

    info = handle.enqueue([4, 5])
    assert await wait_until(lambda: _result_when_done(handle, info)) == {"sum": 9}
    assert await handle.aresult(info.id) == {"sum": 9}  # by id, in the handle's queue
    assert r.hget(f"asynq:{{default}}:t:{info.id}", "result") == b'{"sum":9}'

    word = takes_task.using(client=client).enqueue("hi")
    assert (
        await wait_until(lambda: _result_when_done(takes_task.using(client=aclient), word)) == "HI"
    )
    assert ("takes-task", (word.id, "hi")) in calls  # the ActiveTask came first, not from JSON

    with pytest.raises(asynq.ValidationError, match='is a "fn:async" task, not "fn:sync"'):
        await sync_fn.using(client=aclient).aresult(info)


async def _result_when_done(handle: asynq.TaskFunction[Any, Any], info: asynq.TaskInfo) -> Any:
    try:
        return await handle.aresult(info)
    except asynq.FailedPreconditionError:
        return None


async def test_a_result_without_retention_is_gone(
    start_server: Any, client: asynq.Client, aclient: asynq.AsyncClient
) -> None:
    await start_server(registry)
    info = returns_none.using(client=client).enqueue()
    await wait_until(lambda: calls)
    inspector = asynq.AsyncInspector(aclient.redis)
    await wait_until(lambda: _gone(inspector, info))
    with pytest.raises(asynq.TaskNotFoundError) as raised:
        await returns_none.using(client=aclient).aresult(info)
    assert "only when enqueued with a retention" in "".join(raised.value.__notes__)


async def _gone(inspector: asynq.AsyncInspector, info: asynq.TaskInfo) -> bool:
    try:
        await inspector.get_task_info(info.queue, info.id)
    except asynq.TaskNotFoundError:
        return True
    return False


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        pytest.param(
            b"not json",
            "payload is not JSON (Expecting value: line 1 column 1 (char 0))",
            id="not-json",
        ),
        pytest.param(
            b"[7]",
            "payload must be a JSON object keyed by parameter name, not an array",
            id="array",
        ),
        pytest.param(
            b'{"address": {"city": "Oslo", "zip": "0150"}, "when": "2026-01-01T00:00:00Z"}',
            'missing required argument "user_id"',
            id="missing",
        ),
        pytest.param(
            b'{"user_id": 1, "address": {"city": "Oslo", "zip": "0150"},'
            b' "when": "2026-01-01T00:00:00Z", "colour": "red"}',
            'unknown argument "colour"',
            id="unknown",
        ),
        pytest.param(
            b'{"user_id": "seven", "address": {"city": "Oslo", "zip": "0150"},'
            b' "when": "2026-01-01T00:00:00Z"}',
            "argument \"user_id\": expected an integer, got text 'seven'",
            id="wrong-type",
        ),
        pytest.param(
            b'{"user_id": 1, "address": {"city": "Oslo"}, "when": "2026-01-01T00:00:00Z"}',
            "argument \"address\": missing field 'zip' of Address",
            id="nested",
        ),
    ],
)
async def test_a_payload_that_does_not_bind_is_archived_at_once(
    start_server: Any, client: asynq.Client, redis_url: str, payload: bytes, problem: str
) -> None:
    await start_server(registry)
    info = client.enqueue(asynq.Task("fn:sync", payload), max_retry=5)
    inspector = asynq.AsyncInspector(redis_url)
    try:
        archived = await wait_until(lambda: _in_state(inspector, info, asynq.TaskState.ARCHIVED))
    finally:
        await inspector.close()
    assert archived.retried == 0
    assert archived.last_err == f'task "fn:sync": {problem}: skip retry for the task'
    assert calls == []


async def _in_state(
    inspector: asynq.AsyncInspector, info: asynq.TaskInfo, state: asynq.TaskState
) -> asynq.TaskInfo | None:
    got = await inspector.get_task_info(info.queue, info.id)
    return got if got.state is state else None


async def test_a_type_without_a_function_fails_like_an_unmatched_servemux(
    start_server: Any, client: asynq.Client, redis_url: str
) -> None:
    await start_server(registry)
    info = client.enqueue(asynq.Task("fn:nobody", b"{}"))
    inspector = asynq.AsyncInspector(redis_url)
    try:
        retry = await wait_until(lambda: _in_state(inspector, info, asynq.TaskState.RETRY))
    finally:
        await inspector.close()
    assert retry.last_err == 'handler not found for task "fn:nobody"'


async def test_a_registry_mounted_under_a_servemux_runs_behind_its_middleware(
    start_server: Any, client: asynq.Client
) -> None:
    seen: list[str] = []

    def record(next_handler: Handler) -> Handler:
        async def wrapper(task: asynq.ActiveTask) -> None:
            seen.append(task.type)
            await call_handler(next_handler, task)

        return wrapper

    mux = asynq.ServeMux()
    mux.use(record)
    mux.handle("fn:", registry)
    await start_server(mux)
    async_fn.using(client=client).enqueue([1])
    sync_fn.using(client=client).enqueue(1, Address("Rome", "00100"), datetime.now(UTC))
    await wait_until(lambda: len(calls) == 2)
    assert sorted(seen) == ["fn:async", "fn:sync"]
    assert {kind for kind, _ in calls} == {"async", "sync"}
