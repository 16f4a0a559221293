"""Snapshots of queue, server, worker and scheduler state (Go's QueueInfo, ServerInfo, ...).

Frozen dataclasses with no I/O. Times are aware UTC datetimes; ``None`` stands for Go's zero
time. Field names follow Go's, in snake_case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asynq._task import Task


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueInfo:
    """A snapshot of one queue (Go ``Inspector.GetQueueInfo``)."""

    queue: str
    memory_usage: int
    latency: timedelta
    size: int
    groups: int
    pending: int
    active: int
    scheduled: int
    retry: int
    archived: int
    completed: int
    aggregating: int
    #: Processed / failed today (UTC).
    processed: int
    failed: int
    #: Processed / failed since the counters were created.
    processed_total: int
    failed_total: int
    paused: bool
    timestamp: datetime
    #: Fields whose stored value could not be read (a key of the wrong type, a counter that
    #: is not a number): they show 0 here, and the other fields are still right.
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DailyStats:
    """Processed and failed counts of one UTC day (Go ``DailyStats``)."""

    queue: str
    processed: int
    failed: int
    date: datetime
    #: ``"processed"`` and/or ``"failed"`` when that counter is not a number (shown as 0).
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupInfo:
    """A group of tasks waiting to be aggregated."""

    group: str
    size: int


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkerInfo:
    """A task being processed by a server."""

    task_id: str
    task_type: str
    task_payload: bytes
    queue: str
    started: datetime | None
    deadline: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerInfo:
    """A live worker server, Go or Python (Go ``Inspector.Servers``)."""

    id: str
    host: str
    pid: int
    concurrency: int
    queues: dict[str, int]
    strict_priority: bool
    started: datetime | None
    status: str
    active_workers: list[WorkerInfo] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class SchedulerEntry:
    """A periodic task registered by a live scheduler, Go or Python."""

    id: str
    spec: str
    task: Task
    #: Go ``Option.String()`` forms, e.g. ``Queue("critical")``, ``MaxRetry(3)``.
    opts: list[str]
    next: datetime | None
    #: ``None`` until the entry has enqueued once.
    prev: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SchedulerEnqueueEvent:
    """One enqueue made by a scheduler entry."""

    task_id: str
    enqueued_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterNode:
    """A Redis Cluster node serving a queue's slot."""

    id: str
    addr: str
