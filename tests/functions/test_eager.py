"""Eager mode: an enqueue runs the function at once, in-process, through the same JSON trip,
and never touches Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pydantic
import pytest
import redis

import asynq
from asynq.testing import run_handler_sync

registry = asynq.TaskRegistry()
ran: list[Any] = []


@registry.task("eager:add", queue="low")
def add(a: int, b: int = 1) -> int:
    task = asynq.current_task()
    ran.append((task.id, task.queue, a, b))
    return a + b


@registry.task("eager:when")
async def when(at: datetime) -> str:
    return at.isoformat()


@registry.task("eager:flag")
def flag(count: int) -> int:
    return count


@registry.task("eager:boom")
def boom(reason: str) -> None:
    raise LookupError(reason)


@registry.task("eager:outer")
async def outer(n: int) -> int:
    info = add.enqueue(n)  # a blocking enqueue inside async code, eager too
    inner = await add.aenqueue(n)
    return int(add.result(info)) + int(await add.aresult(inner))


class Order(pydantic.BaseModel):
    id: int
    items: list[str]


@registry.task("eager:order")
def place(order: Order) -> Order:
    return order.model_copy(update={"items": [*order.items, "receipt"]})


@pytest.fixture(autouse=True)
def _untouched(redis_url: str, r: redis.Redis) -> Iterator[None]:
    """Every test runs with a real default client, so that a write would show."""
    ran.clear()
    with asynq.Client(redis_url) as client, asynq.use_client(client):
        yield
    assert r.dbsize() == 0


def test_enqueue_runs_the_function_and_returns_a_completed_info() -> None:
    with asynq.eager():
        info = add.enqueue(2, b=5)
        assert info.state is asynq.TaskState.COMPLETED
        assert (info.queue, info.type, info.payload) == ("low", "eager:add", b'{"a":2,"b":5}')
        assert info.result == b"7"
        assert info.completed_at is not None
        assert add.result(info.id) == 7
    assert ran == [(info.id, "low", 2, 5)]


def test_enqueue_in_and_at_run_now_too() -> None:
    with asynq.eager():
        assert add.enqueue_in(3600, 1).result == b"2"
        assert add.using(task_id="fixed").enqueue_at(datetime.now().astimezone(), 2).id == "fixed"
    assert len(ran) == 2


async def test_aenqueue_and_aresult() -> None:
    stamp = datetime(2026, 1, 1).astimezone()
    with asynq.eager():
        info = await when.aenqueue(stamp)
        assert await when.aresult(info) == stamp.isoformat()


async def test_blocking_enqueue_from_async_code_and_nested_tasks() -> None:
    with asynq.eager():
        info = await outer.aenqueue(3)
    assert info.result == b"8"
    assert len(ran) == 2


def test_the_function_error_propagates() -> None:
    with asynq.eager(), pytest.raises(LookupError, match="gone"):
        boom.enqueue("gone")


def test_round_trip_errors_show_as_on_a_worker() -> None:
    # bool is JSON true, which an int parameter refuses on the worker side: the test sees it.
    with asynq.eager(), pytest.raises(asynq.TaskArgumentsError) as raised:
        flag.enqueue(True)
    assert 'argument "count": expected an integer, got a boolean True' in str(raised.value)


def test_options_are_checked_as_an_enqueue_checks_them() -> None:
    with asynq.eager(), pytest.raises(asynq.ValidationError, match="at least one second"):
        add.using(timeout=0.5).enqueue(1)
    assert ran == []


def test_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNQ_EAGER", "1")
    assert add.enqueue(1).state is asynq.TaskState.COMPLETED
    assert ran


def test_results_of_an_eager_block_are_forgotten_when_it_ends() -> None:
    with asynq.eager():
        info = add.enqueue(1)
    with asynq.eager(), pytest.raises(asynq.TaskNotFoundError):
        add.result(info.id)


def test_pydantic_models_as_arguments_and_results() -> None:
    with asynq.eager():
        info = place.enqueue(Order(id=1, items=["book"]))
        assert info.payload == b'{"order":{"id":1,"items":["book"]}}'
        assert place.result(info) == Order(id=1, items=["book", "receipt"])
    # A handle is a handler too: asynq.testing runs it as a worker would.
    bad = asynq.Task("eager:order", b'{"order":{"id":"x","items":[]}}')
    run = run_handler_sync(place, bad)
    assert isinstance(run.error, asynq.TaskArgumentsError)
    assert 'argument "order": id: Input should be a valid integer' in str(run.error)
