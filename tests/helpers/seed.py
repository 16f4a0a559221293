"""Write tasks, servers and schedulers into Redis with raw commands, in Go asynq's exact layout.

Test-only. Each function writes what the Go code path it names would leave behind (see
docs/compatibility.md#redis-keys), so Inspector tests can start from any state, including ones
no client call produces directly (active tasks with an expired lease, tasks in retry with an
error, ...).
The functions take any redis-py client (``Redis`` or ``RedisCluster``); they register nothing
in ``asynq:queues`` unless asked (:func:`register`).

Times are whole Unix seconds except ``pending_since`` (nanoseconds), as in Go.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from asynq._base import keys
from asynq._base.codec import (
    SchedulerEnqueueEventMessage,
    SchedulerEntryMessage,
    ServerInfoMessage,
    TaskMessage,
    WorkerInfoMessage,
    encode_message,
    fill_timestamp,
    fill_timestamp_ns,
)


def message(
    type: str = "task",
    payload: bytes = b"",
    *,
    id: str | None = None,
    queue: str = "default",
    retry: int = 25,
    retried: int = 0,
    error_msg: str = "",
    last_failed_at: int = 0,
    timeout: int = 1800,
    deadline: int = 0,
    unique_key: str = "",
    group_key: str = "",
    retention: int = 0,
    completed_at: int = 0,
    headers: Mapping[str, str] | None = None,
) -> TaskMessage:
    """A TaskMessage with Go's client defaults (retry 25, timeout 30 min, random UUID id)."""
    return TaskMessage(
        type=type,
        payload=payload,
        id=id or str(uuid.uuid4()),
        queue=queue,
        retry=retry,
        retried=retried,
        error_msg=error_msg,
        last_failed_at=last_failed_at,
        timeout=timeout,
        deadline=deadline,
        unique_key=unique_key,
        group_key=group_key,
        retention=retention,
        completed_at=completed_at,
        headers=dict(headers or {}),
    )


def register(r: Any, *queues: str) -> None:
    """``SADD asynq:queues``: what every Go client write does first."""
    r.sadd(keys.ALL_QUEUES, *queues)


def _hash(r: Any, msg: TaskMessage, state: str, **extra: Any) -> None:
    fields: dict[str, Any] = {"msg": encode_message(msg), "state": state}
    fields.update({k: v for k, v in extra.items() if v is not None})
    r.hset(keys.task_key(msg.queue, msg.id), mapping=fields)


def pending(r: Any, msg: TaskMessage, *, pending_since_ns: int | None = None) -> str:
    """``enqueueCmd``, or ``requeue``/``RunTask`` when ``pending_since_ns`` is None
    (docs/compatibility.md#quirk-pending-since-not-restored)."""
    _hash(r, msg, "pending", pending_since=pending_since_ns, unique_key=msg.unique_key or None)
    r.lpush(keys.pending_key(msg.queue), msg.id)
    return msg.id


def active(r: Any, msg: TaskMessage, *, lease_until: int) -> str:
    """``dequeueCmd``: in the active list with a lease (an expired one makes it orphaned)."""
    _hash(r, msg, "active", unique_key=msg.unique_key or None)
    r.lpush(keys.active_key(msg.queue), msg.id)
    r.zadd(keys.lease_key(msg.queue), {msg.id: lease_until})
    return msg.id


def scheduled(r: Any, msg: TaskMessage, *, process_at: int) -> str:
    """``scheduleCmd`` / ``scheduleUniqueCmd`` (``unique_key`` stored when the msg has one)."""
    _hash(r, msg, "scheduled", unique_key=msg.unique_key or None)
    r.zadd(keys.scheduled_key(msg.queue), {msg.id: process_at})
    return msg.id


def retry(r: Any, msg: TaskMessage, *, retry_at: int) -> str:
    """``retryCmd``: the msg should carry ``retried``/``error_msg``/``last_failed_at``."""
    _hash(r, msg, "retry", unique_key=msg.unique_key or None)
    r.zadd(keys.retry_key(msg.queue), {msg.id: retry_at})
    return msg.id


def archived(r: Any, msg: TaskMessage, *, archived_at: int) -> str:
    """``archiveCmd``: scored by the archive time."""
    _hash(r, msg, "archived", unique_key=msg.unique_key or None)
    r.zadd(keys.archived_key(msg.queue), {msg.id: archived_at})
    return msg.id


def completed(r: Any, msg: TaskMessage, *, result: bytes | None = None) -> str:
    """``markAsCompleteCmd``: scored by ``completed_at + retention``; optional ``result``."""
    _hash(r, msg, "completed", unique_key=msg.unique_key or None, result=result)
    r.zadd(keys.completed_key(msg.queue), {msg.id: msg.completed_at + msg.retention})
    return msg.id


def aggregating(r: Any, msg: TaskMessage, *, added_at: int) -> str:
    """``addToGroupCmd``: in ``g:<group_key>`` and its name in ``groups``."""
    _hash(r, msg, "aggregating", group=msg.group_key)
    r.zadd(keys.group_key(msg.queue, msg.group_key), {msg.id: added_at})
    r.sadd(keys.groups_key(msg.queue), msg.group_key)
    return msg.id


def result(r: Any, msg: TaskMessage, data: bytes) -> None:
    """``ResultWriter.Write``: ``HSET result``."""
    r.hset(keys.task_key(msg.queue, msg.id), "result", data)


def unique_lock(r: Any, msg: TaskMessage, ttl: int) -> None:
    """The uniqueness lock ``msg.unique_key`` held by ``msg.id``."""
    r.set(msg.unique_key, msg.id, ex=ttl)


def counters(
    r: Any,
    queue: str,
    *,
    day_unix: int,
    processed: int = 0,
    failed: int = 0,
    processed_total: int | None = None,
    failed_total: int | None = None,
) -> None:
    """The daily counters of the UTC day containing ``day_unix``, and optionally the totals."""
    if processed:
        r.set(keys.processed_key(queue, day_unix), processed)
    if failed:
        r.set(keys.failed_key(queue, day_unix), failed)
    if processed_total is not None:
        r.set(keys.processed_total_key(queue), processed_total)
    if failed_total is not None:
        r.set(keys.failed_total_key(queue), failed_total)


def server_info(
    *,
    host: str = "host-a",
    pid: int = 4242,
    server_id: str | None = None,
    concurrency: int = 10,
    queues: Mapping[str, int] | None = None,
    strict_priority: bool = False,
    status: str = "active",
    started: float = 1_700_000_000.25,
    active_workers: int = 0,
) -> ServerInfoMessage:
    """A ServerInfoMessage as Go's heartbeater writes it."""
    info = ServerInfoMessage(
        host=host,
        pid=pid,
        server_id=server_id or str(uuid.uuid4()),
        concurrency=concurrency,
        queues=dict(queues or {"default": 1}),
        strict_priority=strict_priority,
        status=status,
        active_worker_count=active_workers,
    )
    fill_timestamp(info.start_time, started)
    return info


def worker_info(
    server: ServerInfoMessage,
    msg: TaskMessage,
    *,
    started: float,
    deadline: float,
) -> WorkerInfoMessage:
    """The WorkerInfo of a task ``server`` is processing."""
    info = WorkerInfoMessage(
        host=server.host,
        pid=server.pid,
        server_id=server.server_id,
        task_id=msg.id,
        task_type=msg.type,
        task_payload=msg.payload,
        queue=msg.queue,
    )
    fill_timestamp(info.start_time, started)
    fill_timestamp(info.deadline, deadline)
    return info


def server(
    r: Any,
    info: ServerInfoMessage,
    workers: Iterable[WorkerInfoMessage] = (),
    *,
    expires_at: int,
    ttl: int = 10,
) -> str:
    """``WriteServerState``: the two ZSET members (scored by expiry), the info and workers."""
    skey = keys.server_info_key(info.host, info.pid, info.server_id)
    wkey = keys.workers_key(info.host, info.pid, info.server_id)
    r.zadd(keys.ALL_SERVERS, {skey: expires_at})
    r.zadd(keys.ALL_WORKERS, {wkey: expires_at})
    r.set(skey, info.SerializeToString(), ex=ttl)
    r.delete(wkey)
    for w in workers:
        r.hset(wkey, w.task_id, w.SerializeToString())
    r.expire(wkey, ttl)
    return skey


def scheduler_entry(
    *,
    spec: str = "@every 30s",
    task_type: str = "periodic",
    payload: bytes = b"",
    options: Iterable[str] = (),
    next_unix: float | None = 1_700_000_030,
    prev_unix: float | None = None,
    entry_id: str | None = None,
) -> SchedulerEntryMessage:
    """A SchedulerEntry as Go's scheduler writes it (``prev`` is Go's zero time until run)."""
    entry = SchedulerEntryMessage(
        id=entry_id or str(uuid.uuid4()),
        spec=spec,
        task_type=task_type,
        task_payload=payload,
        enqueue_options=list(options),
    )
    fill_timestamp(entry.next_enqueue_time, next_unix)
    fill_timestamp(entry.prev_enqueue_time, prev_unix)
    return entry


def scheduler(
    r: Any,
    scheduler_id: str,
    entries: Iterable[SchedulerEntryMessage],
    *,
    expires_at: int,
    ttl: int = 20,
) -> str:
    """``WriteSchedulerEntries``: ``LPUSH`` each entry in order (the list ends up reversed)."""
    key = keys.scheduler_entries_key(scheduler_id)
    r.zadd(keys.ALL_SCHEDULERS, {key: expires_at})
    r.delete(key)
    for e in entries:
        r.lpush(key, e.SerializeToString())
    r.expire(key, ttl)
    return key


def scheduler_event(r: Any, entry_id: str, task_id: str, *, enqueued_ns: int) -> None:
    """``recordSchedulerEnqueueEventCmd`` (without the 1000-event cap)."""
    event = SchedulerEnqueueEventMessage(task_id=task_id)
    fill_timestamp_ns(event.enqueue_time, enqueued_ns)
    r.zadd(
        keys.scheduler_history_key(entry_id),
        {event.SerializeToString(): enqueued_ns // 1_000_000_000},
    )
