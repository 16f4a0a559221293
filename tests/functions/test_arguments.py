"""The payload of a call: one JSON object keyed by parameter name; a call that does not bind
or encode is refused before anything reaches Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

import asynq

registry = asynq.TaskRegistry()


@registry.task("args:mixed")
def mixed(a: int, /, b: str, c: float = 1.5, *, d: bool = False) -> None: ...


@registry.task("args:var")
def var(first: int, *rest: int, **extra: str) -> None: ...


@registry.task("args:tags", unique=60)
def tags(names: set[str]) -> None: ...


@pytest.fixture
def sync_client(redis_url: str) -> Iterator[asynq.Client]:
    with asynq.Client(redis_url) as c:
        yield c


@pytest.mark.parametrize(
    ("args", "kwargs", "payload"),
    [
        pytest.param((1, "x"), {}, b'{"a":1,"b":"x"}', id="positional-defaults-not-sent"),
        pytest.param((1,), {"d": True, "b": "y"}, b'{"a":1,"b":"y","d":true}', id="by-name"),
        pytest.param((1, "z", 2.0), {}, b'{"a":1,"b":"z","c":2.0}', id="default-given"),
    ],
)
def test_arguments_are_bound_to_their_names(
    args: tuple[Any, ...], kwargs: dict[str, Any], payload: bytes
) -> None:
    assert mixed.task(*args, **kwargs).payload == payload


def test_var_positional_is_an_array_and_var_keyword_merges_in_sorted() -> None:
    assert var.task(1, 2, 3, z="1", y="2").payload == b'{"first":1,"rest":[2,3],"y":"2","z":"1"}'


async def test_varargs_come_back_as_they_went() -> None:
    from asynq.testing import run_handler

    seen: list[Any] = []
    local = asynq.TaskRegistry()

    @local.task("args:echo")
    def echo(first: int, *rest: int, **extra: str) -> None:
        seen.append((first, rest, extra))

    run = await run_handler(local, echo.task(1, 2, 3, z="1"))
    assert run.error is None
    assert seen == [(1, (2, 3), {"z": "1"})]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda h: h.enqueue(), "missing a required argument: 'a'", id="missing"),
        pytest.param(lambda h: h.enqueue(1, "x", e=1), "unexpected keyword argument 'e'", id="kw"),
        pytest.param(lambda h: h.enqueue(a=1, b="x"), "'a' parameter is positional only", id="po"),
        pytest.param(
            lambda h: h.enqueue(1, object()), 'argument "b": object has no JSON form', id="enc"
        ),
        pytest.param(
            lambda h: h.enqueue(1, "x", float("nan")),
            'argument "c": nan has no JSON form',
            id="nan",
        ),
        pytest.param(
            lambda h: h.using(timeout=0.2).enqueue(1, "x"), "at least one second", id="option"
        ),
    ],
)
def test_a_bad_call_is_refused_before_redis_is_touched(
    sync_client: asynq.Client, r: redis.Redis, call: Any, message: str
) -> None:
    with pytest.raises(asynq.ValidationError, match=message) as raised:
        call(mixed.using(client=sync_client))
    assert "args:mixed" in str(raised.value) or "second" in str(raised.value)
    assert r.dbsize() == 0


def test_equal_sets_make_equal_payloads_so_uniqueness_holds(sync_client: asynq.Client) -> None:
    handle = tags.using(client=sync_client)
    handle.enqueue({"b", "a", "c"})
    with pytest.raises(asynq.DuplicateTaskError):
        handle.enqueue({"c", "a", "b"})


def test_enqueue_writes_the_payload_go_would_read(
    sync_client: asynq.Client, r: redis.Redis
) -> None:
    info = mixed.using(client=sync_client, queue="low").enqueue(7, "seven", d=True)
    assert (info.queue, info.type, info.payload) == (
        "low",
        "args:mixed",
        b'{"a":7,"b":"seven","d":true}',
    )
    assert r.llen("asynq:{low}:pending") == 1


async def test_handles_without_a_client_use_the_default_clients(
    sync_client: asynq.Client, redis_url: str, r: redis.Redis
) -> None:
    async with asynq.AsyncClient(redis_url) as aclient:
        with asynq.use_client(sync_client, async_client=aclient):
            first = mixed.enqueue(1, "sync")
            second = await mixed.aenqueue_in(60, 2, "async")
    assert r.llen("asynq:{default}:pending") == 1
    assert r.zscore("asynq:{default}:scheduled", second.id) is not None
    assert first.payload == b'{"a":1,"b":"sync"}'
