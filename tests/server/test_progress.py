"""Progress reports on a real worker and Redis: the stream a handler fills (capped, expiring),
bad reports refused, and :func:`asynq.progress.watch_task` following a task to its end."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
import redis

import asynq
from asynq.progress import Progress, TaskUpdate, open_event_stream, watch_task
from tests.helpers.waiting import wait_until


async def test_a_task_without_retention_ends_the_watch_as_gone(
    start_server: Any, client: asynq.Client, redis_url: str
) -> None:
    release = asyncio.Event()

    async def handler(task: asynq.ActiveTask) -> None:
        await task.report_progress_async(1, 2, message="half")
        await release.wait()

    await start_server(handler)
    info = client.enqueue(asynq.Task("progress:gone"))
    updates: list[TaskUpdate] = []
    async for update in watch_task(redis_url, "default", info.id, check_interval=0.1):
        updates.append(update)
        if update.progress is not None:
            release.set()
    assert updates[-1] == TaskUpdate("gone", Progress(1, 2, "half"), final=True)
    assert [u.final for u in updates] == [False] * (len(updates) - 1) + [True]
    assert updates[-1].progress is not None and updates[-1].progress.fraction == 0.5


async def test_the_stream_is_capped_and_expires(
    start_server: Any, client: asynq.Client, r: redis.Redis
) -> None:
    async def handler(task: asynq.ActiveTask) -> None:
        for n in range(300):
            await task.report_progress_async(n)

    await start_server(handler)
    info = client.enqueue(asynq.Task("progress:many"))
    key = f"asynq:{{default}}:progress:{info.id}"
    await wait_until(lambda: r.exists(f"asynq:{{default}}:t:{info.id}") == 0)
    assert 100 <= r.xlen(key) < 300  # trimmed to about the last 100 (MAXLEN ~)
    assert 0 < r.ttl(key) <= 24 * 3600
    [(_, fields)] = r.xrevrange(key, count=1)
    assert fields == {b"data": b'{"done":299,"total":null,"message":""}'}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ((math.nan,), "progress done must be a finite number"),
        ((True,), "progress done must be a finite number"),
        ((1, "10"), "progress total must be a finite number"),
        ((1, 2, 3), "message must be text"),
    ],
)
async def test_bad_reports_are_refused(
    start_server: Any, client: asynq.Client, args: tuple[Any, ...], problem: str
) -> None:
    errors: list[BaseException] = []

    def handler(task: asynq.ActiveTask) -> None:  # a plain def: the blocking form
        done, *rest = args
        total = rest[0] if rest else None
        message = rest[1] if len(rest) > 1 else ""
        try:
            task.report_progress(done, total, message=message)
        except asynq.ValidationError as exc:
            errors.append(exc)

    await start_server(handler)
    client.enqueue(asynq.Task("progress:bad"))
    await wait_until(lambda: errors)
    assert problem in str(errors[0])


async def test_an_unknown_task_cannot_be_watched(redis_url: str, client: asynq.Client) -> None:
    client.enqueue(asynq.Task("progress:other"))  # registers the queue
    with pytest.raises(asynq.TaskNotFoundError):
        async for _ in watch_task(redis_url, "default", "nope"):
            pass


def _delete_the_task(inspector: asynq.Inspector, task_id: str) -> None:
    inspector.delete_task("default", task_id)


def _delete_its_queue(inspector: asynq.Inspector, task_id: str) -> None:
    inspector.delete_queue("default", force=True)


@pytest.mark.parametrize("remove", [_delete_the_task, _delete_its_queue])
async def test_a_task_removed_while_watched_ends_the_watch_as_gone(
    redis_url: str, client: asynq.Client, r: redis.Redis, remove: Any
) -> None:
    info = client.enqueue(asynq.Task("progress:removed"), process_in=3600)
    r.xadd(f"asynq:{{default}}:progress:{info.id}", {"data": b'{"done":1,"total":4,"message":""}'})
    updates: list[TaskUpdate] = []
    first_seen = asyncio.Event()

    async def follow() -> None:
        async for update in watch_task(redis_url, "default", info.id, check_interval=0.05):
            updates.append(update)
            first_seen.set()

    follower = asyncio.create_task(follow())
    await first_seen.wait()
    with asynq.Inspector(redis_url) as inspector:
        remove(inspector, info.id)
    await asyncio.wait_for(follower, timeout=30)  # ends by itself, without raising

    assert updates[0] == TaskUpdate("scheduled", Progress(1, 4, ""), final=False)
    assert updates[-1] == TaskUpdate("gone", Progress(1, 4, ""), final=True)


@pytest.mark.parametrize("remove", [_delete_the_task, _delete_its_queue])
async def test_the_event_stream_of_a_removed_task_ends_with_a_gone_event(
    redis_url: str, client: asynq.Client, remove: Any
) -> None:
    info = client.enqueue(asynq.Task("progress:removed"), process_in=3600)
    events = await open_event_stream(redis_url, "default", info.id, check_interval=0.05)
    assert (await anext(events)).startswith("event: update\n")
    with asynq.Inspector(redis_url) as inspector:
        remove(inspector, info.id)
    rest = [event async for event in events]  # the generator finishes
    assert rest[-1] == (
        'event: end\ndata: {"state":"gone","progress":null,"final":true,"error":""}\n\n'
    )
