"""``asynq.get_async_client``: one AsyncClient per event loop, closed with its loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
import redis
from asgiref.sync import async_to_sync

import asynq
from tests.defaults._support import eventually, pending


async def _enqueue(queue: str) -> tuple[asynq.AsyncClient, str]:
    client = asynq.get_async_client()
    assert asynq.get_async_client() is client  # one per loop
    info = await client.enqueue(asynq.Task("t"), queue=queue)
    return client, info.id


def test_a_fresh_loop_per_call_with_asyncio_run(
    configured: Callable[[str], None],
    connections: Callable[[str], set[str]],
    r: redis.Redis,
) -> None:
    configured("per-loop")
    clients, ids = [], set()
    for _ in range(4):
        client, task_id = asyncio.run(_enqueue("runs"))
        clients.append(client)
        ids.add(task_id)
        # The loop shut down, and its client's connection with it.
        eventually(lambda: not connections("per-loop"))
    assert len({id(c) for c in clients}) == 4  # all alive in the list: ids are distinct objects
    assert pending(r, "runs") == ids


def test_a_fresh_loop_per_call_with_async_to_sync(
    configured: Callable[[str], None],
    connections: Callable[[str], set[str]],
    r: redis.Redis,
) -> None:
    configured("asgiref")
    enqueue = async_to_sync(_enqueue)
    results = [enqueue("asgiref") for _ in range(4)]
    assert len({id(client) for client, _ in results}) == 4
    assert pending(r, "asgiref") == {task_id for _, task_id in results}
    eventually(lambda: not connections("asgiref"))


def test_loops_in_threads_get_their_own_clients(
    configured: Callable[[str], None], r: redis.Redis
) -> None:
    configured("threads")
    both = threading.Barrier(2)
    results: list[tuple[asynq.AsyncClient, str]] = []

    async def run() -> None:
        client = asynq.get_async_client()
        await asyncio.to_thread(both.wait)  # both loops hold their client at the same time
        info = await client.enqueue(asynq.Task("t"), queue="loops")
        results.append((client, info.id))

    threads = [threading.Thread(target=asyncio.run, args=(run(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0][0] is not results[1][0]
    assert pending(r, "loops") == {task_id for _, task_id in results}


async def test_one_client_for_the_life_of_a_loop(
    configured: Callable[[str], None], r: redis.Redis
) -> None:
    configured("one-loop")
    first, a = await _enqueue("same")
    second, b = await asyncio.create_task(_enqueue("same"))
    assert first is second
    assert pending(r, "same") == {a, b}


def test_outside_an_event_loop_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        asynq.get_async_client()


def test_configure_closes_the_client_of_a_running_loop(
    configured: Callable[[str], None], connections: Callable[[str], set[str]]
) -> None:
    configured("replaced")

    async def run() -> tuple[asynq.AsyncClient, asynq.AsyncClient]:
        old, _ = await _enqueue("q")
        assert connections("replaced")
        configured("replacement")
        new, _ = await _enqueue("q")
        for _ in range(100):  # the old client is closed on this loop, in the background
            if not connections("replaced"):
                break
            await asyncio.sleep(0.05)
        return old, new

    old, new = asyncio.run(run())
    assert old is not new
    assert not connections("replaced")
