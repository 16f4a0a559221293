"""``asynq.use_client``: swap the defaults for a scope."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

import asynq


def test_swaps_and_restores(configured: Callable[[str], None], redis_url: str) -> None:
    configured("scoped")
    default = asynq.get_client()
    with (
        asynq.Client(redis_url) as mine,
        asynq.Client(redis_url) as inner,
        asynq.use_client(mine),
    ):
        assert asynq.get_client() is mine
        with asynq.use_client(inner):
            assert asynq.get_client() is inner
        assert asynq.get_client() is mine
        with pytest.raises(KeyError), asynq.use_client(inner):
            raise KeyError("boom")
        assert asynq.get_client() is mine
    assert asynq.get_client() is default


def test_other_threads_keep_the_default(configured: Callable[[str], None], redis_url: str) -> None:
    configured("scoped")
    default = asynq.get_client()
    seen: list[asynq.Client] = []
    with asynq.Client(redis_url) as mine, asynq.use_client(mine):
        thread = threading.Thread(target=lambda: seen.append(asynq.get_client()))
        thread.start()
        thread.join()
    assert seen == [default]


async def test_async_scope_reaches_tasks_started_inside(
    configured: Callable[[str], None], redis_url: str
) -> None:
    configured("scoped")
    default = asynq.get_async_client()
    sync_default = asynq.get_client()
    async with asynq.AsyncClient(redis_url) as mine:
        with asynq.use_client(async_client=mine):
            assert await asyncio.create_task(_current()) is mine
            assert asynq.get_client() is sync_default  # the blocking default is untouched
        assert await asyncio.create_task(_current()) is default


async def _current() -> asynq.AsyncClient:
    return asynq.get_async_client()


def test_rejects_what_is_not_a_client(redis_url: str) -> None:
    with (
        asynq.Client(redis_url) as client,
        pytest.raises(asynq.ValidationError, match=r"expects an asynq\.AsyncClient"),
        asynq.use_client(async_client=client),  # type: ignore[arg-type]
    ):
        pass
    with (
        pytest.raises(asynq.ValidationError, match=r"expects an asynq\.Client"),
        asynq.use_client("redis://x"),  # type: ignore[arg-type]
    ):
        pass
