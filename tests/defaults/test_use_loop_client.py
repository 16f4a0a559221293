"""``asynq.use_loop_client``: one AsyncClient for every task on the running loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import asynq


async def _current() -> asynq.AsyncClient:
    return asynq.get_async_client()


async def test_reaches_tasks_started_outside_the_block(
    configured: Callable[[str], None], redis_url: str
) -> None:
    configured("loop-scoped")
    default = asynq.get_async_client()
    opened = asyncio.Event()
    release = asyncio.Event()

    async def lifespan(client: asynq.AsyncClient) -> None:
        with asynq.use_loop_client(client):
            opened.set()
            await release.wait()

    async with asynq.AsyncClient(redis_url) as mine:
        holder = asyncio.create_task(lifespan(mine))  # like an ASGI lifespan task
        await opened.wait()
        # A task started from here, not from inside the block, still gets the loop's client.
        assert await asyncio.create_task(_current()) is mine
        assert asynq.get_async_client() is mine
        info = await asynq.get_async_client().enqueue(asynq.Task("loop:scoped"))
        assert info.queue == "default"
        release.set()
        await holder
        assert await asyncio.create_task(_current()) is default


async def test_use_client_wins_and_blocks_nest(
    configured: Callable[[str], None], redis_url: str
) -> None:
    configured("loop-scoped")
    async with (
        asynq.AsyncClient(redis_url) as outer,
        asynq.AsyncClient(redis_url) as inner,
        asynq.AsyncClient(redis_url) as scoped,
    ):
        with asynq.use_loop_client(outer):
            with asynq.use_loop_client(inner):
                assert asynq.get_async_client() is inner
                with asynq.use_client(async_client=scoped):
                    assert asynq.get_async_client() is scoped
            assert asynq.get_async_client() is outer


def test_other_loops_keep_their_own(configured: Callable[[str], None], redis_url: str) -> None:
    configured("loop-scoped")

    async def main() -> None:
        async with asynq.AsyncClient(redis_url) as mine:
            with asynq.use_loop_client(mine):
                other = await asyncio.to_thread(asyncio.run, _current())
                assert other is not mine

    asyncio.run(main())


async def test_refuses_what_is_not_an_async_client(redis_url: str) -> None:
    with (
        pytest.raises(asynq.ValidationError, match="AsyncClient"),
        asynq.use_loop_client(redis_url),  # type: ignore[arg-type]
    ):
        pass
