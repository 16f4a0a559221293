"""Inspector ops on the processes around the queues: servers, schedulers, cancellation.

Servers and schedulers announce themselves in the heartbeat ZSETs ``asynq:servers``,
``asynq:workers`` and ``asynq:schedulers`` (member: a key, score: its expiry). Reading them
prunes expired members, as Go's ``RDB.ListServers`` / ``ListWorkers`` / ``ListSchedulerEntries``
do; the keys they name are read in one pipelined round trip (in a cluster they live in
different slots, which a pipeline may address, unlike a script).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

from asynq._base import keys
from asynq._base.codec import (
    SchedulerEnqueueEventMessage,
    SchedulerEntryMessage,
    ServerInfoMessage,
    WorkerInfoMessage,
    datetime_from_timestamp,
)
from asynq._broker.calls import Command, Op, Pipeline, ReplyError, Script, as_int, as_text
from asynq._broker.ops.inspect_option_strings import normalize
from asynq._snapshots import SchedulerEnqueueEvent, SchedulerEntry, ServerInfo, WorkerInfo
from asynq._task import Task
from asynq.errors import ValidationError

M = TypeVar("M", bound=Message)

_NEVER = datetime.min.replace(tzinfo=UTC)


def _decode(factory: Callable[[], M], data: Any) -> M | None:
    """Parse one stored message; ``None`` for missing or corrupt data (Go skips it)."""
    if not isinstance(data, bytes):
        return None
    msg = factory()
    try:
        msg.ParseFromString(data)
    except DecodeError:
        return None
    return msg


def _when(ts: Timestamp) -> datetime | None:
    """:func:`datetime_from_timestamp`, or ``None`` for a time past ``datetime``'s range
    (damaged heartbeat data must not fail the whole listing)."""
    try:
        return datetime_from_timestamp(ts)
    except (OverflowError, ValueError, OSError):
        return None


def _live_keys(zset: str, now_sec: int) -> Op[list[str]]:
    return [as_text(k) for k in (yield Script("inspect_live_keys", (zset,), (now_sec,)))]


def _read_each(command: str, names: list[str], *extra: str) -> Op[list[Any]]:
    """Run ``command name *extra`` for each name in one round trip; failed reads become ``[]``."""
    if not names:
        return []
    replies = yield Pipeline(tuple(Command((command, name, *extra)) for name in names))
    return [None if isinstance(r, ReplyError) else r for r in replies]


def _worker(msg: WorkerInfoMessage) -> WorkerInfo:
    return WorkerInfo(
        task_id=msg.task_id,
        task_type=msg.task_type,
        task_payload=msg.task_payload,
        queue=msg.queue,
        started=_when(msg.start_time),
        deadline=_when(msg.deadline),
    )


def _worker_order(w: WorkerInfo) -> tuple[datetime, str]:
    return (w.started or _NEVER, w.task_id)


def servers(now_sec: int) -> Op[list[ServerInfo]]:
    """``Inspector.Servers``: live servers, each with the workers its last heartbeat listed.

    Workers whose server is not live are dropped, as in Go. Go's order is random (map
    iteration, both for servers and for each heartbeat's workers); here servers are sorted by
    host, pid and id, and workers by start time and task id.
    """
    server_keys = yield from _live_keys(keys.ALL_SERVERS, now_sec)
    infos = [_decode(ServerInfoMessage, d) for d in (yield from _read_each("GET", server_keys))]
    worker_keys = yield from _live_keys(keys.ALL_WORKERS, now_sec)
    by_server: dict[str, list[WorkerInfo]] = {}
    for values in (yield from _read_each("HVALS", worker_keys)):
        for data in values or ():
            worker = _decode(WorkerInfoMessage, data)
            if worker is not None:
                by_server.setdefault(worker.server_id, []).append(_worker(worker))
    result = {
        s.server_id: ServerInfo(
            id=s.server_id,
            host=s.host,
            pid=s.pid,
            concurrency=s.concurrency,
            queues=dict(s.queues),
            strict_priority=s.strict_priority,
            started=_when(s.start_time),
            status=s.status,
            active_workers=sorted(by_server.get(s.server_id, []), key=_worker_order),
        )
        for s in infos
        if s is not None
    }
    return sorted(result.values(), key=lambda s: (s.host, s.pid, s.id))


def _entry(msg: SchedulerEntryMessage) -> SchedulerEntry | None:
    try:
        task = Task(msg.task_type, msg.task_payload)
    except ValidationError:
        return None  # a blank type: not something a scheduler can have registered
    opts = [o for o in (normalize(s) for s in msg.enqueue_options) if o is not None]
    return SchedulerEntry(
        id=msg.id,
        spec=msg.spec,
        task=task,
        opts=opts,
        next=_when(msg.next_enqueue_time),
        prev=_when(msg.prev_enqueue_time),
    )


def scheduler_entries(now_sec: int) -> Op[list[SchedulerEntry]]:
    """``Inspector.SchedulerEntries``: the entries of every live scheduler, in stored order."""
    scheduler_keys = yield from _live_keys(keys.ALL_SCHEDULERS, now_sec)
    entries = []
    for values in (yield from _read_each("LRANGE", scheduler_keys, "0", "-1")):
        for data in values or ():
            msg = _decode(SchedulerEntryMessage, data)
            entry = None if msg is None else _entry(msg)
            if entry is not None:
                entries.append(entry)
    return entries


def scheduler_enqueue_events(
    entry_id: str, page: int, size: int
) -> Op[list[SchedulerEnqueueEvent]]:
    """``RDB.ListSchedulerEnqueueEvents``: one page of an entry's history, newest first."""
    start = size * page
    members = yield Command(
        ("ZREVRANGE", keys.scheduler_history_key(entry_id), start, start + size - 1)
    )
    events = []
    for data in members:
        msg = _decode(SchedulerEnqueueEventMessage, data)
        if msg is not None:
            events.append(
                SchedulerEnqueueEvent(task_id=msg.task_id, enqueued_at=_when(msg.enqueue_time))
            )
    return events


def cancel_processing(task_id: str) -> Op[int]:
    """``RDB.PublishCancelation``: ``PUBLISH asynq:cancel <id>``; returns the receiver count."""
    return as_int((yield Command(("PUBLISH", keys.CANCEL_CHANNEL, task_id))))
