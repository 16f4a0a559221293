"""Worker-side broker ops: dequeue, the outcome of a task, and the background sweeps.

Each outcome has a ``*_call`` builder returning the one script call (so the processor can send
the outcomes of several tasks in one pipelined round trip) and an op that runs it. Times come
in as Unix seconds from the caller's clock; every score and counter expiry written is whole
seconds, exactly as Go's ``time.Unix()`` truncates.

The outcome scripts also append the end of the attempt to the task's progress stream when that
stream exists (``lua/include/progress_end.lua``): watchers learn of it at once
(:mod:`asynq.progress`), and a task nobody follows leaves Redis as Go leaves it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asynq._base import keys
from asynq._base.codec import TaskMessage, encode_message
from asynq._broker.calls import Command, Op, Pipeline, Script, as_int

#: Go's ``rdb.LeaseDuration``: how long a dequeue or heartbeat holds a task.
LEASE_DURATION = 30.0
#: Go's ``statsTTL``: daily counters expire this long after they are created.
STATS_TTL = 90 * 24 * 3600
#: Go's ``maxArchiveSize`` and ``archivedExpirationInDays``.
MAX_ARCHIVE_SIZE = 10_000
ARCHIVED_EXPIRATION_DAYS = 90
#: The total counters wrap to 1 when they reach Go's ``math.MaxInt64``.
MAX_INT64 = 9223372036854775807
#: Entries kept in a task's progress stream (the newest, ``MAXLEN ~``), and how long the stream
#: outlives its last entry.
PROGRESS_KEPT = 100
PROGRESS_TTL = 24 * 3600


def _sec(unix: float) -> int:
    """Whole Unix seconds, like Go's ``time.Unix()`` (floor, also for negative values)."""
    return math.floor(unix)


def _copy(msg: TaskMessage) -> TaskMessage:
    out = TaskMessage()
    out.CopyFrom(msg)
    return out


@dataclass(frozen=True, slots=True)
class Taken:
    """A task that a dequeue moved to active, or that a lease scan found: undecoded.

    ``data`` is its ``msg`` field (``None`` when missing) and ``kind`` the Redis type of its
    task key (``"hash"``, or ``"none"``, ``"string"``... when the task data is damaged). The
    caller decides whether it can run; see :mod:`asynq.server._damaged`.
    """

    id: bytes
    data: bytes | None
    kind: str


def _taken(reply: Any) -> list[Taken]:
    items = list(reply or ())
    return [
        Taken(bytes(tid), None if data is None else bytes(data), _text(kind))
        for tid, data, kind in zip(items[0::3], items[1::3], items[2::3], strict=True)
    ]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def dequeue(
    qname: str, count: int, now: float, handoff: HandoffRegistration | None = None
) -> Op[list[Taken]]:
    """Move up to ``count`` pending tasks of ``qname`` to active; return them, undecoded.

    The lease expires at ``now + 30 s``; the caller keeps that time as the local lease.
    An empty list means the queue is empty or paused. Every task moved is returned, a damaged
    one included, so the caller can run, archive or release each and none stays active
    unseen (see ``lua/dequeue.lua``).

    With ``handoff``, a worker left with a free slot registers for direct handoff in the same
    call, and one whose slots are now all taken withdraws (see ``lua/dequeue.lua``).
    """
    call_keys: tuple[str, ...] = (
        keys.pending_key(qname),
        keys.paused_key(qname),
        keys.active_key(qname),
        keys.lease_key(qname),
    )
    args: tuple[Any, ...] = (
        _sec(now + LEASE_DURATION),
        keys.task_key_prefix(qname),
        max(count, 1),
    )
    if handoff is not None:
        call_keys += (keys.handoff_key(qname),)
        ttl_ms = math.ceil(handoff.ttl * 1000)
        args += (handoff.channel, math.floor(now * 1000) + ttl_ms, ttl_ms)
    reply = yield Script("dequeue", call_keys, args)
    return _taken(reply)


@dataclass(frozen=True, slots=True)
class HandoffRegistration:
    """What an idle worker writes to be handed tasks: its channel, and for how long."""

    channel: str
    ttl: float


def withdraw_handoff(qnames: Sequence[str], channel: str) -> Op[None]:
    """Remove the worker listening on ``channel`` from the handoff registrations of ``qnames``."""
    if qnames:
        yield Pipeline(tuple(Command(("ZREM", keys.handoff_key(q), channel)) for q in qnames))


def done_call(msg: TaskMessage, now: float) -> Script:
    """Go's ``RDB.Done``: delete the task, count it processed, release its own unique lock."""
    q = msg.queue
    call_keys = (
        keys.active_key(q),
        keys.lease_key(q),
        keys.task_key(q, msg.id),
        keys.processed_key(q, now),
        keys.processed_total_key(q),
        keys.progress_key(q, msg.id),
    )
    args = (msg.id, _sec(now) + STATS_TTL, MAX_INT64, PROGRESS_KEPT, PROGRESS_TTL)
    # An empty unique key must not be passed: Redis Cluster refuses it.
    return Script("done", (*call_keys, msg.unique_key) if msg.unique_key else call_keys, args)


def mark_as_complete_call(msg: TaskMessage, now: float) -> Script:
    """Go's ``RDB.MarkAsComplete``: keep the task as completed until now + retention."""
    q = msg.queue
    completed = _copy(msg)
    completed.completed_at = _sec(now)
    call_keys = (
        keys.active_key(q),
        keys.lease_key(q),
        keys.completed_key(q),
        keys.task_key(q, msg.id),
        keys.processed_key(q, now),
        keys.processed_total_key(q),
        keys.progress_key(q, msg.id),
    )
    args = (
        msg.id,
        _sec(now) + STATS_TTL,
        _sec(now) + msg.retention,
        encode_message(completed),
        MAX_INT64,
        PROGRESS_KEPT,
        PROGRESS_TTL,
    )
    # An empty unique key must not be passed: Redis Cluster refuses it.
    unique = (msg.unique_key,) if msg.unique_key else ()
    return Script("mark_as_complete", (*call_keys, *unique), args)


def requeue_call(msg: TaskMessage) -> Script:
    """Go's ``RDB.Requeue``: put an unfinished active task back at the head of pending."""
    q = msg.queue
    return Script(
        "requeue",
        (keys.active_key(q), keys.lease_key(q), keys.pending_key(q), keys.task_key(q, msg.id)),
        (msg.id,),
    )


def retry_call(
    msg: TaskMessage, retry_at: float, error_msg: str, is_failure: bool, now: float
) -> Script:
    """Go's ``RDB.Retry``: schedule the task in the retry set at ``retry_at``.

    ``retried`` grows by one and the counters move only when ``is_failure``; ``error_msg`` and
    ``last_failed_at`` are always updated.
    """
    q = msg.queue
    modified = _copy(msg)
    if is_failure:
        modified.retried += 1
    modified.error_msg = error_msg
    modified.last_failed_at = _sec(now)
    return Script(
        "retry",
        (
            keys.task_key(q, msg.id),
            keys.active_key(q),
            keys.lease_key(q),
            keys.retry_key(q),
            keys.processed_key(q, now),
            keys.failed_key(q, now),
            keys.processed_total_key(q),
            keys.failed_total_key(q),
            keys.progress_key(q, msg.id),
        ),
        (
            msg.id,
            encode_message(modified),
            _sec(retry_at),
            _sec(now) + STATS_TTL,
            "1" if is_failure else "0",
            MAX_INT64,
            PROGRESS_KEPT,
            PROGRESS_TTL,
        ),
    )


def _archive_cutoff(now: float) -> int:
    # Go uses AddDate(0, 0, -90): calendar days in the local zone. asynq servers run in UTC in
    # practice and a DST hour either way never changes which tasks are older than 90 days.
    moment = datetime.fromtimestamp(now, UTC) - timedelta(days=ARCHIVED_EXPIRATION_DAYS)
    return _sec(moment.timestamp())


def archive_call(msg: TaskMessage, error_msg: str, now: float) -> Script:
    """Go's ``RDB.Archive``: archive the task (``retried`` unchanged) and trim the archive."""
    q = msg.queue
    modified = _copy(msg)
    modified.error_msg = error_msg
    modified.last_failed_at = _sec(now)
    return Script(
        "archive",
        (
            keys.task_key(q, msg.id),
            keys.active_key(q),
            keys.lease_key(q),
            keys.archived_key(q),
            keys.processed_key(q, now),
            keys.failed_key(q, now),
            keys.processed_total_key(q),
            keys.failed_total_key(q),
            keys.task_key_prefix(q),
            keys.progress_key(q, msg.id),
        ),
        (
            msg.id,
            encode_message(modified),
            _sec(now),
            _archive_cutoff(now),
            MAX_ARCHIVE_SIZE,
            _sec(now) + STATS_TTL,
            MAX_INT64,
            PROGRESS_KEPT,
            PROGRESS_TTL,
        ),
    )


def run_call(call: Script) -> Op[None]:
    """Run one outcome call; a script error reply (``NOT FOUND``) raises ReplyError."""
    yield call


def forward_if_ready(qnames: Sequence[str], now: float, now_ns: int) -> Op[int]:
    """Go's ``RDB.ForwardIfReady``: move every due scheduled and retry task; return the count."""
    total = 0
    for q in qnames:
        for source in (keys.scheduled_key(q), keys.retry_key(q)):
            while True:
                n = as_int(
                    (
                        yield Script(
                            "forward",
                            (source, keys.pending_key(q)),
                            (_sec(now), keys.task_key_prefix(q), now_ns, keys.group_key_prefix(q)),
                        )
                    )
                )
                total += n
                if n == 0:
                    break
    return total


def list_lease_expired(qname: str, cutoff: float) -> Op[list[Taken]]:
    """Go's ``RDB.ListLeaseExpired`` for one queue: the tasks whose lease expired at or before
    ``cutoff``, undecoded like :func:`dequeue` (damaged ones included)."""
    reply = yield Script(
        "list_lease_expired", (keys.lease_key(qname),), (_sec(cutoff), keys.task_key_prefix(qname))
    )
    return _taken(reply)


def release(qname: str, task_id: bytes) -> Op[None]:
    """Take an id that names no task (its key is missing or not a hash) off active and lease.

    Active list first: an id left in the lease set alone is found and released again by the
    next lease scan, while one left in the active list alone would be seen by nobody.
    """
    yield Pipeline(
        (
            Command(("LREM", keys.active_key(qname), 0, task_id)),
            Command(("ZREM", keys.lease_key(qname), task_id)),
        )
    )


def keep_damaged_message(qname: str, task_id: str, data: bytes) -> Op[None]:
    """Keep the unreadable ``msg`` of an archived task in its ``damaged_msg`` field (only this
    library writes it), for whoever looks into what went wrong."""
    yield Command(("HSET", keys.task_key(qname, task_id), "damaged_msg", data))


def delete_expired_completed(qname: str, now: float, batch_size: int) -> Op[int]:
    """Go's ``RDB.DeleteExpiredCompletedTasks``: delete in batches until none is due."""
    total = 0
    while True:
        n = as_int(
            (
                yield Script(
                    "delete_expired_completed",
                    (keys.completed_key(qname),),
                    (_sec(now), keys.task_key_prefix(qname), batch_size),
                )
            )
        )
        total += n
        if n == 0:
            return total


def extend_lease_call(qname: str, task_ids: Sequence[str], now: float) -> Command:
    """Go's ``RDB.ExtendLease``: ``ZADD lease XX`` every id to now + 30 s."""
    expire = _sec(now + LEASE_DURATION)
    args: list[Any] = ["ZADD", keys.lease_key(qname), "XX"]
    for tid in task_ids:
        args += [expire, tid]
    return Command(tuple(args))


def write_result(qname: str, task_id: str, data: bytes) -> Op[int]:
    """Go's ``RDB.WriteResult``: ``HSET result``; returns the number of bytes written."""
    yield Command(("HSET", keys.task_key(qname, task_id), "result", data))
    return len(data)


def report_progress(qname: str, task_id: str, data: bytes) -> Op[None]:
    """Append a progress report to the task's stream (``XADD``, capped) and keep it a day."""
    yield from _append_progress(qname, task_id, b"data", data)


def open_progress(qname: str, task_id: str) -> Op[None]:
    """Make sure the task's progress stream exists, with a ``watching`` entry (capped and kept
    a day like a report), so that the outcome scripts append the end of the attempt to it."""
    yield from _append_progress(qname, task_id, b"watching", b"1")


def _append_progress(qname: str, task_id: str, field: bytes, value: bytes) -> Op[None]:
    key = keys.progress_key(qname, task_id)
    yield Command(("XADD", key, "MAXLEN", "~", PROGRESS_KEPT, "*", field, value))
    yield Command(("EXPIRE", key, PROGRESS_TTL))


def ping() -> Op[None]:
    """``PING`` (the health check)."""
    yield Command(("PING",))
