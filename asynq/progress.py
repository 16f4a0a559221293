"""Watching a task live: its state, and the progress its handler reports, as they happen.

A handler reports with :meth:`ActiveTask.report_progress <asynq.ActiveTask.report_progress>`
(``report_progress_async`` in ``async def`` handlers); each report is appended to the task's
progress stream in Redis (``asynq:{<queue>}:progress:<id>``, the last ~100 entries, kept a
day after the last).
:func:`watch_task` follows that stream with a blocking read, so reports arrive as they are
made. A Python worker that ends an attempt of the task (success, retry, archive) appends an
``end`` entry to the stream when it exists, and the watcher opens the stream (a ``watching``
entry) to make sure it does: the end of the attempt is pushed too, and the watcher then looks
at the task's state at once. Changes nobody pushes (a Go worker ending the task, the Inspector
deleting, running or archiving it, a worker picking it up) are seen by looking at the state
whenever the stream was quiet for ``check_interval`` seconds, until the task is over::

    async for update in asynq.progress.watch_task(redis_url, "default", task_id):
        print(update.state, update.progress)

Framework adapters turn the updates into Server-Sent Events (``update.as_dict()``); the
dashboard's task page shows them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import redis as redis_py

from asynq._base import keys
from asynq._broker.ops import server_ops
from asynq._resolve import resolve_async
from asynq._task import TaskInfo, TaskState
from asynq.connection import AsyncRedisLike
from asynq.errors import BrokerError, QueueNotFoundError, TaskNotFoundError
from asynq.inspector import AsyncInspector

__all__ = ["Progress", "TaskUpdate", "open_event_stream", "sse_event", "watch_task"]

#: States after which nothing more happens to the task (unless someone acts on it).
FINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.ARCHIVED})


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report: ``done`` out of ``total`` (``None``: unknown), and a message."""

    done: float
    total: float | None
    message: str

    @property
    def fraction(self) -> float | None:
        """``done / total`` between 0 and 1, when the total is known and positive."""
        if not self.total or self.total <= 0:
            return None
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """What :func:`watch_task` yields: the task's state and its latest progress.

    Attributes:
        state: ``"pending"``, ``"active"``, ``"retry"``, ``"completed"``, ``"archived"``... or
            ``"gone"`` when the task no longer exists (processed without a retention, deleted,
            or its queue deleted).
        progress: The latest report, if the handler made one.
        final: Nothing more will come: the task completed, was archived or is gone.
        error: The task's last error message, if any.
    """

    state: str
    progress: Progress | None
    final: bool
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for Server-Sent Events and APIs."""
        progress = None
        if self.progress is not None:
            progress = {
                "done": self.progress.done,
                "total": self.progress.total,
                "message": self.progress.message,
                "fraction": self.progress.fraction,
            }
        return {"state": self.state, "progress": progress, "final": self.final, "error": self.error}


def _parse(fields: dict[bytes, bytes]) -> Progress | None:
    try:
        data = json.loads(fields[b"data"])
        return Progress(float(data["done"]), _number(data.get("total")), str(data["message"]))
    except (KeyError, ValueError, TypeError):
        return None  # not one of ours: skip it rather than end the watch


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def sse_event(update: TaskUpdate) -> str:
    """One Server-Sent Event for ``update``: named ``update``, or ``end`` for the last one,
    with :meth:`TaskUpdate.as_dict` as JSON data."""
    name = "end" if update.final else "update"
    return f"event: {name}\ndata: {json.dumps(update.as_dict(), separators=(',', ':'))}\n\n"


async def watch_task(
    redis: AsyncInspector | AsyncRedisLike | None,
    queue: str,
    task_id: str,
    *,
    check_interval: float = 1.0,
) -> AsyncGenerator[TaskUpdate, None]:
    """Yield the task's updates until it is over: first its current state (with the latest
    progress already reported), then one update per new report or change of state.

    Reports arrive as they are made (a blocking read of the task's progress stream), and so
    does the end of each attempt a Python worker makes (completed, retry, archived, or done
    without a retention): before waiting, the watch opens the stream with a ``watching``
    entry, so the worker's outcome appends its ``end`` entry to it. The state is looked at
    after each entry and whenever the stream was quiet for ``check_interval`` seconds, which
    catches what nobody pushes (a Go worker's outcome, an Inspector action, the task being
    picked up). Stop early by breaking out of the loop (or cancelling the consuming task): the
    connection it used goes back to its pool.

    Args:
        redis: An :class:`~asynq.AsyncInspector` or a ``redis.asyncio`` client (both stay
            open), a Redis URL or ``RedisConnection``, or ``None`` for ``$ASYNQ_REDIS_URL``.
        queue: The task's queue.
        task_id: The task's id.
        check_interval: Seconds of quiet between two looks at the task's state.

    A task deleted while it is watched (or whose queue is deleted) ends the watch with a
    last ``"gone"`` update, like a task processed without a retention: no error.

    Raises:
        QueueNotFoundError: the queue is not registered when the watch starts.
        TaskNotFoundError: no such task when the watch starts.
        BrokerError: Redis failed.
    """
    if isinstance(redis, AsyncInspector):
        # The inspector's own redis-py client: the blocking reads go through its pool.
        inspector, client, owned = redis, redis._driver.redis, False
    else:
        client, owned = resolve_async(redis)
        inspector = AsyncInspector(client)
    stream = keys.progress_key(queue, task_id)
    block_ms = max(1, int(check_interval * 1000))
    try:
        info: TaskInfo | None = await inspector.get_task_info(queue, task_id)
        latest, last_id = await _latest(client, stream)
        update = _update(info, latest)
        yield update
        if update.final:
            return
        # Opened only once the caller asks for more than the current state (a buffered host's
        # one-event answer opens nothing). Then the state is looked at again: the task may
        # have ended between the first look and the opening, with no end entry.
        await inspector._driver.run(server_ops.open_progress(queue, task_id))
        while True:
            info = await _current_info(inspector, queue, task_id)
            new = _update(info, latest)
            if new != update:
                update = new
                yield update
            if update.final:
                return
            # Any entry, a report or the end of an attempt, makes the next look happen now.
            for entry_id, fields in await _read(client, stream, last_id, block_ms):
                last_id = entry_id
                latest = _parse(fields) or latest
    finally:
        if inspector is not redis:
            await inspector.close()
        if owned:
            await client.aclose()


async def _current_info(inspector: AsyncInspector, queue: str, task_id: str) -> TaskInfo | None:
    try:
        return await inspector.get_task_info(queue, task_id)
    except (TaskNotFoundError, QueueNotFoundError):
        # Deleted meanwhile, or its whole queue was: followers get a last "gone" update rather
        # than an error, as for a task processed without a retention.
        return None


def _update(info: TaskInfo | None, latest: Progress | None) -> TaskUpdate:
    if info is None:
        return TaskUpdate("gone", latest, final=True)
    return TaskUpdate(
        str(info.state), latest, final=info.state in FINAL_STATES, error=info.last_err
    )


async def _latest(client: Any, stream: str) -> tuple[Progress | None, bytes | str]:
    """The newest report and the newest entry's id (where the blocking reads start). The
    stream also holds ``watching`` and ``end`` entries, which are no reports: the whole
    (capped) stream is read, newest first, to find the last report behind them."""
    try:
        entries = await client.xrevrange(stream)
    except redis_py.RedisError as exc:
        raise BrokerError(f"cannot read the progress of the task: {exc}") from exc
    if not entries:
        return None, "0-0"
    reports = (_parse(fields) for _, fields in entries)
    return next((report for report in reports if report is not None), None), entries[0][0]


async def _read(client: Any, stream: str, last_id: bytes | str, block_ms: int) -> list[Any]:
    try:
        reply = await client.xread({stream: last_id}, block=block_ms, count=100)
    except redis_py.RedisError as exc:
        raise BrokerError(f"cannot read the progress of the task: {exc}") from exc
    if not reply:
        return []
    # [[stream, [(id, fields), ...]]] (RESP2) or {stream: [[...]]} (RESP3)
    if isinstance(reply, dict):
        return [entry for entries in reply.values() for entry in entries[0]]
    return list(reply[0][1])


async def open_event_stream(
    redis: AsyncInspector | AsyncRedisLike | None,
    queue: str,
    task_id: str,
    *,
    check_interval: float = 1.0,
) -> AsyncGenerator[str, None]:
    """Start watching the task, then return its updates as Server-Sent Events text (for a
    streaming HTTP response with ``text/event-stream``).

    The first look happens here, so an unknown task fails before any response is sent.
    Arguments are those of :func:`watch_task`.

    Raises:
        QueueNotFoundError, TaskNotFoundError, BrokerError: as :func:`watch_task`.
    """
    updates = watch_task(redis, queue, task_id, check_interval=check_interval)
    try:
        first = await anext(updates)
    except BaseException:
        await updates.aclose()
        raise

    async def events() -> AsyncGenerator[str, None]:
        try:
            yield sse_event(first)
            async for update in updates:
                yield sse_event(update)
        finally:
            await updates.aclose()

    return events()
