"""Opening and closing: URLs, RedisConnection, caller-owned redis-py clients, context managers.

Whether a connection is closed is observed on the server (``CLIENT LIST``), since redis-py
reconnects silently on the next command.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
import redis.asyncio

import asynq
from asynq import RedisConnection, Task, TaskState
from tests.client.layout import wait_until


def server_client_ids(r: redis.Redis) -> set[int]:
    return {int(c["id"]) for c in r.client_list()}


def named_connections(r: redis.Redis, name: str) -> int:
    return sum(1 for c in r.client_list() if c.get("name") == name)


async def _enqueue(client: Any, flavor: str, task: Task, **opts: Any) -> Any:
    if flavor == "sync":
        return client.enqueue(task, **opts)
    return await client.enqueue(task, **opts)


async def _close(client: Any, flavor: str) -> None:
    if flavor == "sync":
        client.close()
    else:
        await client.close()


async def test_caller_owned_redis_client_is_left_open(flavor, redis_url, r) -> None:
    if flavor == "sync":
        mine: Any = redis.Redis.from_url(redis_url)
        conn_id = mine.client_id()
        client: Any = asynq.Client(mine)
    else:
        mine = redis.asyncio.Redis.from_url(redis_url)
        conn_id = await mine.client_id()
        client = asynq.AsyncClient(mine)
    info = await _enqueue(client, flavor, Task("t"))
    await _close(client, flavor)
    # The caller's pooled connection (the one asynq used) is still open on the server.
    assert conn_id in server_client_ids(r)
    if flavor == "sync":
        assert mine.client_id() == conn_id
        mine.close()
    else:
        assert await mine.client_id() == conn_id
        await mine.aclose()
    assert r.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]


async def test_url_client_closes_its_connections(flavor, redis_url, r) -> None:
    conn = RedisConnection.from_url(redis_url, client_name=f"asynq-owned-{flavor}")
    client: Any = asynq.Client(conn) if flavor == "sync" else asynq.AsyncClient(conn)
    await _enqueue(client, flavor, Task("t"))
    assert named_connections(r, f"asynq-owned-{flavor}") == 1
    await _close(client, flavor)
    assert wait_until(lambda: named_connections(r, f"asynq-owned-{flavor}") == 0)


async def test_context_manager(flavor, redis_url, r) -> None:
    name = f"asynq-cm-{flavor}"
    conn = RedisConnection.from_url(redis_url, client_name=name)
    if flavor == "sync":
        with asynq.Client(conn) as client:
            assert isinstance(client, asynq.Client)
            info = client.enqueue(Task("t"))
            assert named_connections(r, name) == 1
    else:
        async with asynq.AsyncClient(conn) as aclient:
            assert isinstance(aclient, asynq.AsyncClient)
            info = await aclient.enqueue(Task("t"))
            assert named_connections(r, name) == 1
    assert info.state is TaskState.PENDING
    assert wait_until(lambda: named_connections(r, name) == 0)


async def test_context_manager_closes_on_error(flavor, redis_url, r) -> None:
    name = f"asynq-cm-err-{flavor}"
    conn = RedisConnection.from_url(redis_url, client_name=name)
    with pytest.raises(RuntimeError, match="boom"):
        if flavor == "sync":
            with asynq.Client(conn) as client:
                client.enqueue(Task("t"))
                raise RuntimeError("boom")
        else:
            async with asynq.AsyncClient(conn) as aclient:
                await aclient.enqueue(Task("t"))
                raise RuntimeError("boom")
    assert wait_until(lambda: named_connections(r, name) == 0)


async def test_context_manager_leaves_a_caller_client_open(flavor, redis_url, r) -> None:
    if flavor == "sync":
        mine: Any = redis.Redis.from_url(redis_url)
        conn_id = mine.client_id()
        with asynq.Client(mine) as client:
            client.enqueue(Task("t"))
        assert mine.client_id() == conn_id  # not reconnected: the pool was left alone
        mine.close()
    else:
        amine = redis.asyncio.Redis.from_url(redis_url)
        conn_id = await amine.client_id()
        async with asynq.AsyncClient(amine) as aclient:
            await aclient.enqueue(Task("t"))
        assert await amine.client_id() == conn_id
        await amine.aclose()


async def test_close_twice_is_harmless(flavor, redis_url) -> None:
    client: Any = asynq.Client(redis_url) if flavor == "sync" else asynq.AsyncClient(redis_url)
    await _enqueue(client, flavor, Task("t"))
    await _close(client, flavor)
    await _close(client, flavor)


def test_redis_connection_object(make_client, redis_url, r) -> None:
    client = make_client(RedisConnection.from_url(redis_url))
    info = client.enqueue(Task("t"))
    assert r.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]


def test_default_url_from_the_environment(make_client, redis_url, r, monkeypatch) -> None:
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_url)
    client = make_client(None)
    info = client.enqueue(Task("t"))
    assert r.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]


def test_wrong_redis_flavour_is_refused(flavor) -> None:
    if flavor == "sync":
        with pytest.raises(asynq.ValidationError):
            asynq.Client(redis.asyncio.Redis())
    else:
        with pytest.raises(asynq.ValidationError):
            asynq.AsyncClient(redis.Redis())
