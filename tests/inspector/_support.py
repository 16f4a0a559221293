"""Shared by the Inspector tests: Go's answers as Python values, error kinds, Redis snapshots.

- :func:`go_calls` runs Go's Inspector (``tests/go/cmd/insp_call``) and :func:`from_go` turns
  its JSON into the Python Inspector's value types, so answers compare with ``==``.
- :func:`dump` reads every key into plain values; :func:`snapshot` / :func:`restore` put a
  database back to an earlier state so Go and Python can each mutate the same starting point.
- :func:`error_kind` / :func:`go_error_kind` name an error the same way on both sides.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
from google.protobuf.timestamp_pb2 import Timestamp

import asynq
from asynq._base.codec import datetime_from_timestamp
from asynq._snapshots import (
    ClusterNode,
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntry,
    ServerInfo,
    WorkerInfo,
)
from tests.helpers import gopeer


def addr_of(url: str) -> str:
    """``redis://127.0.0.1:1234/0`` -> ``127.0.0.1:1234`` (the Go programs' ``-redis`` flag)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def go_flags(target: Any) -> list[str]:
    """The Go programs' connection flags for a standalone URL or the ``cluster`` fixture."""
    if isinstance(target, str):
        return ["-redis", addr_of(target)]
    return ["-cluster", ",".join(f"{h}:{p}" for h, p in target.addrs)]


def go_calls(target: Any, *calls: dict[str, Any]) -> list[dict[str, Any]]:
    """Run Inspector calls in Go; each answer is ``{"ok": ...}`` or ``{"err", "sentinel"}``."""
    payload = []
    for call in calls:
        c = dict(call)
        if "payload" in c:
            c["payload"] = base64.b64encode(c["payload"]).decode()
        payload.append(c)
    answers = gopeer.run_go_json("insp_call", *go_flags(target), input=payload)
    assert isinstance(answers, list)
    return answers


def go_call(target: Any, op: str, **args: Any) -> dict[str, Any]:
    """One Go Inspector call."""
    return go_calls(target, {"op": op, **args})[0]


# ---- Go JSON -> Python values -------------------------------------------------------------


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _time(ns: int | None) -> Any:
    """A Go time (Unix ns, null for zero) as the Python Inspector reports it."""
    if ns is None:
        return None
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime_from_timestamp(Timestamp(seconds=seconds, nanos=nanos))


def go_task(d: dict[str, Any]) -> asynq.TaskInfo:
    return asynq.TaskInfo(
        id=d["id"],
        queue=d["queue"],
        type=d["type"],
        payload=_b(d["payload"]),
        headers=d["headers"] or {},
        state=asynq.TaskState(d["state"]),
        max_retry=d["max_retry"],
        retried=d["retried"],
        last_err=d["last_err"],
        last_failed_at=_time(d["last_failed_at"]),
        timeout=timedelta(microseconds=d["timeout"] // 1000),
        deadline=_time(d["deadline"]),
        group=d["group"],
        next_process_at=_time(d["next_process_at"]),
        is_orphaned=d["is_orphaned"],
        retention=timedelta(microseconds=d["retention"] // 1000),
        completed_at=_time(d["completed_at"]),
        result=_b(d["result"]) or None,
    )


def go_queue_info(d: dict[str, Any]) -> QueueInfo:
    return QueueInfo(
        queue=d["queue"],
        memory_usage=d["memory_usage"],
        latency=timedelta(microseconds=d["latency"] // 1000),
        size=d["size"],
        groups=d["groups"],
        pending=d["pending"],
        active=d["active"],
        scheduled=d["scheduled"],
        retry=d["retry"],
        archived=d["archived"],
        completed=d["completed"],
        aggregating=d["aggregating"],
        processed=d["processed"],
        failed=d["failed"],
        processed_total=d["processed_total"],
        failed_total=d["failed_total"],
        paused=d["paused"],
        timestamp=_time(d["timestamp"]),
    )


def go_server(d: dict[str, Any]) -> ServerInfo:
    return ServerInfo(
        id=d["id"],
        host=d["host"],
        pid=d["pid"],
        concurrency=d["concurrency"],
        queues=d["queues"] or {},
        strict_priority=d["strict_priority"],
        started=_time(d["started"]),
        status=d["status"],
        active_workers=[
            WorkerInfo(
                task_id=w["task_id"],
                task_type=w["task_type"],
                task_payload=_b(w["task_payload"]),
                queue=w["queue"],
                started=_time(w["started"]),
                deadline=_time(w["deadline"]),
            )
            for w in d["active_workers"]
        ],
    )


def go_entry(d: dict[str, Any]) -> SchedulerEntry:
    return SchedulerEntry(
        id=d["id"],
        spec=d["spec"],
        task=asynq.Task(d["type"], _b(d["payload"])),
        opts=d["opts"],
        next=_time(d["next"]),
        prev=_time(d["prev"]),
    )


def from_go(op: str, value: Any) -> Any:
    """Turn the ``ok`` answer of Go call ``op`` into what the Python Inspector returns."""
    if op.startswith("List") and op != "ListSchedulerEnqueueEvents":
        return [go_task(t) for t in value]
    if op == "GetTaskInfo":
        return go_task(value)
    if op == "GetQueueInfo":
        return go_queue_info(value)
    if op == "History":
        return [
            DailyStats(
                queue=d["queue"],
                processed=d["processed"],
                failed=d["failed"],
                date=_time(d["date"]),
            )
            for d in value
        ]
    if op == "Groups":
        return [GroupInfo(group=g["group"], size=g["size"]) for g in value]
    if op == "Servers":
        return [go_server(s) for s in value]
    if op == "SchedulerEntries":
        return [go_entry(e) for e in value]
    if op == "ListSchedulerEnqueueEvents":
        return [
            SchedulerEnqueueEvent(task_id=e["task_id"], enqueued_at=_time(e["enqueued_at"]))
            for e in value
        ]
    if op == "ClusterNodes":
        return [ClusterNode(id=n["id"], addr=n["addr"]) for n in value]
    if op == "Queues":
        return sorted(value or [])
    if op in _NO_VALUE:
        return None
    return value  # counts, slots


_NO_VALUE = {
    *("DeleteTask", "RunTask", "ArchiveTask", "UpdateTaskPayload", "CancelProcessing"),
    *("PauseQueue", "UnpauseQueue", "DeleteQueue"),
}


# ---- errors --------------------------------------------------------------------------------

_PY_KINDS: list[tuple[type[Exception], str]] = [
    (asynq.QueueNotFoundError, "queue_not_found"),
    (asynq.TaskNotFoundError, "task_not_found"),
    (asynq.QueueNotEmptyError, "queue_not_empty"),
    (asynq.TaskAlreadyArchivedError, "already_archived"),
    (asynq.TaskAlreadyRunningError, "already_running"),
    (asynq.TaskAlreadyPendingError, "already_pending"),
    (asynq.QueueAlreadyPausedError, "already_paused"),
    (asynq.QueueNotPausedError, "not_paused"),
    (asynq.FailedPreconditionError, "failed_precondition"),
]

_GO_TEXTS = [
    ("does not exist", "queue_not_found"),
    ("queue not found", "queue_not_found"),
    ("cannot find task", "task_not_found"),
    ("task not found", "task_not_found"),
    ("is not empty", "queue_not_empty"),
    ("already archived", "already_archived"),
    ("task is already running", "already_running"),
    ("in active state", "already_running"),
    ("already in pending state", "already_pending"),
    ("is already paused", "already_paused"),
    ("is not paused", "not_paused"),
    ("not in scheduled state", "failed_precondition"),
    ("cannot remove queue with active tasks", "failed_precondition"),
]


def error_kind(exc: BaseException) -> str:
    for cls, kind in _PY_KINDS:
        if isinstance(exc, cls):
            return kind
    raise AssertionError(f"unexpected Python error {exc!r}")


def go_error_kind(answer: dict[str, Any]) -> str:
    if answer.get("sentinel"):
        return str(answer["sentinel"])
    for needle, kind in _GO_TEXTS:
        if needle in answer["err"]:
            return kind
    raise AssertionError(f"unexpected Go error {answer['err']!r}")


@dataclass
class Outcome:
    """A call's result or error kind, comparable across Go and Python."""

    value: Any = None
    error: str | None = None


def go_outcome(op: str, answer: dict[str, Any]) -> Outcome:
    if "err" in answer:
        return Outcome(error=go_error_kind(answer))
    return Outcome(value=from_go(op, answer.get("ok")))


def py_outcome(fn: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=fn())
    except asynq.AsynqError as exc:
        if isinstance(exc, asynq.BrokerError | asynq.ValidationError):
            raise
        return Outcome(error=error_kind(exc))


def without_now(infos: Any) -> Any:
    """Blank ``next_process_at`` of pending tasks: it is "now" at each side's call."""
    if isinstance(infos, list):
        return [without_now(i) for i in infos]
    if isinstance(infos, asynq.TaskInfo) and infos.state is asynq.TaskState.PENDING:
        return replace(infos, next_process_at=None)
    return infos


# ---- Redis state ---------------------------------------------------------------------------


def dump(r: redis.Redis) -> dict[bytes, Any]:
    """Every key of the database with its value (hash -> dict, zset -> [(member, score)])."""
    state: dict[bytes, Any] = {}
    for key in r.scan_iter(count=1000):
        kind = r.type(key)
        if kind == b"string":
            state[key] = r.get(key)
        elif kind == b"hash":
            state[key] = r.hgetall(key)
        elif kind == b"list":
            state[key] = r.lrange(key, 0, -1)
        elif kind == b"set":
            state[key] = r.smembers(key)
        elif kind == b"zset":
            state[key] = r.zrange(key, 0, -1, withscores=True)
        else:
            raise AssertionError(f"unexpected key type {kind!r} of {key!r}")
    return state


def with_now(state: dict[bytes, Any], t0: int, t1: int) -> dict[bytes, Any]:
    """Replace ZSET scores and string values that are a Unix second in ``[t0, t1]`` by "NOW".

    Go and Python each stamp "now" (archive scores, the paused flag) at their own call.
    """

    def fix(value: Any) -> Any:
        if isinstance(value, float | int) and t0 <= value <= t1:
            return "NOW"
        if isinstance(value, bytes) and value.isdigit() and t0 <= int(value) <= t1:
            return "NOW"
        return value

    out: dict[bytes, Any] = {}
    for key, value in state.items():
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            out[key] = sorted(((m, fix(s)) for m, s in value), key=repr)
        elif isinstance(value, bytes):
            out[key] = fix(value)
        else:
            out[key] = value
    return out


Snapshot = list[tuple[bytes, int, bytes]]


def snapshot(r: redis.Redis) -> Snapshot:
    """``DUMP`` every key with its remaining TTL."""
    keys = list(r.scan_iter(count=1000))
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.pttl(key)
        pipe.dump(key)
    replies = pipe.execute()
    return [(k, replies[2 * i], replies[2 * i + 1]) for i, k in enumerate(keys)]


def restore(r: redis.Redis, snap: Snapshot) -> None:
    """Make the database hold exactly the snapshot again."""
    r.flushdb()
    pipe = r.pipeline(transaction=False)
    for key, pttl, data in snap:
        pipe.restore(key, max(pttl, 0), data)
    pipe.execute()


def now_sec() -> int:
    return int(time.time())
