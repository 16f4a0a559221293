"""Scheduler-side broker ops: heartbeat entries, enqueue history, and tick claims.

The first four mirror Go v0.26.0's ``WriteSchedulerEntries``, ``ClearSchedulerEntries``,
``RecordSchedulerEnqueueEvent`` and ``ClearSchedulerHistory`` (``internal/rdb/rdb.go``), so Go's
Inspector, CLI and Asynqmon read what a Python scheduler writes. :func:`claim_tick` has no Go
counterpart: it lets scheduler replicas agree on which one enqueues a given tick.

Every key lives in its own cluster slot, so each call touches one key and multi-key calls are
split into one command per key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asynq._base import keys
from asynq._broker.calls import Command, Op, Pipeline, Script

#: At most this many enqueue events are kept per entry (Go's ``maxEvents``).
MAX_HISTORY_EVENTS = 1000


def write_entries(
    scheduler_id: str, entries: Sequence[bytes], ttl_seconds: int, now_unix: int
) -> Op[None]:
    """Publish a scheduler's entries: ``ZADD asynq:schedulers``, then replace its entry list.

    Args:
        scheduler_id: ``<host>:<pid>:<uuid>``.
        entries: encoded ``SchedulerEntry`` messages, soonest next run first.
        ttl_seconds: lifetime of the list and of the ``asynq:schedulers`` member.
        now_unix: the current whole Unix second.
    """
    key = keys.scheduler_entries_key(scheduler_id)
    yield Command(("ZADD", keys.ALL_SCHEDULERS, now_unix + ttl_seconds, key))
    yield Script("scheduler_write_entries", (key,), (ttl_seconds, *entries))


def clear_entries(scheduler_id: str) -> Op[None]:
    """Withdraw a scheduler: ``ZREM asynq:schedulers <key>`` and ``DEL <key>``."""
    key = keys.scheduler_entries_key(scheduler_id)
    yield Command(("ZREM", keys.ALL_SCHEDULERS, key))
    yield Command(("DEL", key))


def record_event(entry_id: str, event: bytes, enqueued_at: int) -> Op[None]:
    """Add one encoded ``SchedulerEnqueueEvent`` to the entry's history (capped at 1000)."""
    yield Script(
        "scheduler_record_event",
        (keys.scheduler_history_key(entry_id),),
        (enqueued_at, event, MAX_HISTORY_EVENTS),
    )


def clear_history(entry_ids: Iterable[str]) -> Op[None]:
    """``DEL`` the history of each entry (one command per key: they sit in different slots)."""
    calls = tuple(Command(("DEL", keys.scheduler_history_key(i))) for i in entry_ids)
    if calls:
        yield Pipeline(calls)


def claim_tick(fingerprint: str, tick: int, owner: str, ttl_seconds: int) -> Op[bool]:
    """Try to become the one process that enqueues schedule ``fingerprint`` at ``tick``.

    ``SET <tick key> <owner> NX EX <ttl>``: the first caller wins, every later caller for the
    same (schedule, tick) loses until the key expires.

    Returns:
        True if this caller won the tick.
    """
    claim = keys.scheduler_tick_key(fingerprint, tick)
    reply = yield Command(("SET", claim, owner, "NX", "EX", ttl_seconds))
    return reply is not None and reply is not False
