"""``asynq.get_client`` and ``asynq.configure``: one blocking client per process."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import redis

import asynq
from tests.defaults._support import eventually, pending


def test_threads_share_one_client(configured: Callable[[str], None], r: redis.Redis) -> None:
    configured("shared")
    start = threading.Barrier(8)
    seen: list[asynq.Client] = []
    ids: list[str] = []

    def produce() -> None:
        start.wait()  # every thread asks for the client at once
        client = asynq.get_client()
        seen.append(client)
        ids.append(client.enqueue(asynq.Task("t"), queue="threads").id)

    threads = [threading.Thread(target=produce) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(c is seen[0] for c in seen)
    assert pending(r, "threads") == set(ids)


def test_configure_replaces_and_closes_the_client(
    configured: Callable[[str], None], connections: Callable[[str], set[str]]
) -> None:
    configured("first")
    first = asynq.get_client()
    first.enqueue(asynq.Task("t"))
    assert connections("first")
    configured("second")
    second = asynq.get_client()
    assert second is not first
    second.enqueue(asynq.Task("t"))
    assert connections("second")
    eventually(lambda: not connections("first"))


def test_environment_url_when_not_configured(
    redis_url: str, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_url)
    asynq.configure()
    try:
        info = asynq.get_client().enqueue(asynq.Task("from-env"), queue="env")
    finally:
        asynq.configure()
    assert pending(r, "env") == {info.id}


def test_a_given_redis_client_is_used_and_left_open(redis_url: str, r: redis.Redis) -> None:
    own = redis.Redis.from_url(redis_url)
    asynq.configure(own)
    try:
        info = asynq.get_client().enqueue(asynq.Task("t"), queue="own")
        assert pending(r, "own") == {info.id}
    finally:
        asynq.configure()
    assert own.ping()  # the caller's client: configure() did not close it
    own.close()


def test_a_given_blocking_client_has_no_async_twin(redis_url: str) -> None:
    import asyncio

    own = redis.Redis.from_url(redis_url)
    asynq.configure(own)

    async def ask() -> None:
        asynq.get_async_client()

    try:
        with pytest.raises(asynq.ValidationError, match="blocking redis client"):
            asyncio.run(ask())
    finally:
        asynq.configure()
        own.close()


@pytest.mark.parametrize(
    ("value", "needle"),
    [("http://example.com", "unsupported redis URL scheme"), (42, "not int")],
)
def test_configure_rejects_bad_input(value: object, needle: str) -> None:
    with pytest.raises(asynq.ValidationError, match=needle):
        asynq.configure(value)  # type: ignore[arg-type]


def test_configuring_the_same_url_again_keeps_the_clients(redis_url: str) -> None:
    asynq.configure(redis_url)
    try:
        first = asynq.get_client()
        asynq.configure(redis_url)
        assert asynq.get_client() is first
        asynq.configure(redis_url + "?client_name=other")
        assert asynq.get_client() is not first
    finally:
        asynq.configure()
