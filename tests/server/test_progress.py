"""Progress reports on a real worker and Redis: the stream a handler fills (capped, expiring),
bad reports refused, :func:`asynq.progress.watch_task` following a task to its end, and the end
of each attempt pushed to the stream a watcher opened."""

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
    [(_, end), (_, last_report)] = r.xrevrange(key, count=2)
    assert last_report == {b"data": b'{"done":299,"total":null,"message":""}'}
    assert end == {b"end": b"gone"}  # the worker's outcome closes the stream it finds


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


#: How each task of the push tests ends, by its type: the enqueue options, what the handler
#: does, and the last event a watcher gets (``end``, or ``update`` for a retry: a task waiting
#: for its next attempt is not over).
_OUTCOMES: dict[str, tuple[dict[str, Any], BaseException | None, str]] = {
    "completed": (
        {"retention": 600},
        None,
        'event: end\ndata: {"state":"completed","progress":null,"final":true,"error":""}\n\n',
    ),
    "gone": (
        {},
        None,
        'event: end\ndata: {"state":"gone","progress":null,"final":true,"error":""}\n\n',
    ),
    "retry": (
        {"max_retry": 3},
        RuntimeError("boom"),
        'event: update\ndata: {"state":"retry","progress":null,"final":false,"error":"boom"}\n\n',
    ),
    "archived": (
        {},
        asynq.SkipRetry("bad"),
        'event: end\ndata: {"state":"archived","progress":null,"final":true,'
        '"error":"bad: skip retry for the task"}\n\n',
    ),
}


@pytest.mark.parametrize("outcome", list(_OUTCOMES))
async def test_the_end_of_an_attempt_is_pushed_to_its_watchers(
    start_server: Any, client: asynq.Client, redis_url: str, r: redis.Redis, outcome: str
) -> None:
    # The watcher looks at the state only once a minute by itself: within the bound, the last
    # event can only come from the end entry the worker's outcome script appends.
    options, error, last_event = _OUTCOMES[outcome]
    release = asyncio.Event()

    async def handler(task: asynq.ActiveTask) -> None:  # reports no progress at all
        await release.wait()
        if error is not None:
            raise error

    await start_server(handler, retry_delay_func=lambda *a: 3600)
    info = client.enqueue(asynq.Task(f"progress:{outcome}"), **options)
    stream = f"asynq:{{default}}:progress:{info.id}"
    events = await open_event_stream(redis_url, "default", info.id, check_interval=60)
    assert (await anext(events)).startswith("event: update\n")
    assert not r.exists(stream)  # the current state alone opens nothing

    async def until_the_last() -> list[str]:
        seen = []
        async for event in events:
            seen.append(event)
            if event == last_event:
                break
        return seen

    follower = asyncio.create_task(until_the_last())
    await wait_until(lambda: r.exists(stream))  # opened by the watcher, not by a report
    release.set()
    try:
        seen = await asyncio.wait_for(follower, timeout=10)
    finally:
        await events.aclose()

    assert seen[-1] == last_event
    assert not any(e.startswith("event: end\n") for e in seen[:-1])
    entries = r.xrange(stream)
    assert entries[0][1] == {b"watching": b"1"}
    assert entries[-1][1] == {b"end": outcome.encode()}
    assert 0 < r.ttl(stream) <= 24 * 3600  # kept like a report


@pytest.mark.parametrize("outcome", list(_OUTCOMES))
async def test_a_task_nobody_watches_leaves_no_progress_stream(
    start_server: Any, client: asynq.Client, r: redis.Redis, outcome: str
) -> None:
    options, error, _ = _OUTCOMES[outcome]
    finished = asyncio.Event()

    async def handler(task: asynq.ActiveTask) -> None:
        finished.set()
        if error is not None:
            raise error

    await start_server(handler, retry_delay_func=lambda *a: 3600)
    info = client.enqueue(asynq.Task(f"progress:{outcome}"), **options)
    await finished.wait()
    expected = None if outcome == "gone" else outcome.encode()
    await wait_until(lambda: r.hget(f"asynq:{{default}}:t:{info.id}", "state") == expected)
    assert r.keys("asynq:{default}:progress:*") == []
