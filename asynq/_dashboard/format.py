"""Presentation of asynq values for the dashboard: payload text or hex, times, sizes, JSON shapes.

The JSON shapes follow Asynqmon's API where it has one (``error_message``, ``timeout_seconds``,
``memory_usage_bytes``, ``queue_priorities``, ...), so existing scripts port easily. Bytes are sent
as ``<name>`` (UTF-8 text, or base64 when not UTF-8) plus ``<name>_encoding``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asynq._base.display import bytes_fields as bytes_fields
from asynq._base.display import error_rate as error_rate
from asynq._base.display import format_go_duration, truncate, utf8_head
from asynq._snapshots import (
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntry,
    ServerInfo,
    WorkerInfo,
)
from asynq._task import TaskInfo

#: Bytes of a payload or result the task page renders; the rest is behind a download link.
PREVIEW_BYTES = 64 * 1024
#: Bytes of each payload and result a JSON *list* endpoint sends (one task's endpoint sends all).
LIST_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Shown:
    """Bytes prepared for display: ``kind`` is ``text``, ``json`` (pretty-printed) or ``hex``.

    ``size`` is the whole value's length, ``shown`` how many of its bytes ``text`` renders.
    """

    kind: str
    text: str
    size: int
    shown: int = 0

    @property
    def truncated(self) -> bool:
        """Whether only the first ``shown`` bytes are rendered."""
        return self.shown < self.size


def decode_text(data: bytes) -> str | None:
    """The UTF-8 text of ``data`` if it decodes and has no control characters but whitespace."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(not (c.isprintable() or c in "\n\r\t") for c in text):
        return None
    return text


def hexdump(data: bytes, width: int = 16) -> str:
    """A classic hex dump: offset, hex bytes, printable ASCII."""
    lines = []
    for off in range(0, len(data), width):
        chunk = data[off : off + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexes}  {ascii_}")
    return "\n".join(lines)


def show_bytes(data: bytes | None, limit: int = PREVIEW_BYTES) -> Shown:
    """Prepare a payload or result for the detail page (the template escapes the text).

    At most ``limit`` bytes are rendered, so a 50 MB payload costs the page 64 KiB; JSON is
    pretty-printed only when it is complete.
    """
    if data is None:
        return Shown("text", "", 0)
    size = len(data)
    head = utf8_head(data, limit) if size > limit else data
    text = decode_text(head)
    if text is None:
        head = data[:limit]
        return Shown("hex", hexdump(head), size, len(head))
    if len(head) < size:
        return Shown("text", text, size, len(head))
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return Shown("text", text, size, size)
    return Shown("json", pretty, size, size)


def preview(data: bytes | str | None, limit: int = 200) -> str:
    """A one-line preview for table cells: text with whitespace collapsed, else ``hex: ..``."""
    if not data:
        return ""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    # Only the head can show: looking at more would make a page of huge payloads slow.
    # (Four bytes per character at most; whitespace collapses, so take some more.)
    head = utf8_head(data, limit * 8)
    text = decode_text(head)
    shown = "hex: " + data[: limit // 2].hex(" ") if text is None else " ".join(text.split())
    if len(head) < len(data):  # there is more than the head: say so even if it fits
        return shown[: limit - 1] + "…"
    return truncate(shown, limit)


def duration(d: timedelta | float | None) -> str:
    """``1h2m3s`` / ``45s`` / ``350ms``, as Go prints durations; ``-`` for none."""
    if d is None:
        return "-"
    seconds = d.total_seconds() if isinstance(d, timedelta) else float(d)
    if 0 < abs(seconds) < 1:
        return f"{round(seconds * 1000)}ms"
    return format_go_duration(seconds)


def iso(t: datetime | None) -> str:
    """RFC 3339 in UTC with ``Z``; empty for "never" (as Asynqmon)."""
    if t is None:
        return ""
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def relative(t: datetime | None, now: datetime | None = None) -> str:
    """``in 3m0s`` / ``5s ago`` / ``-``."""
    if t is None:
        return "-"
    delta = t - (now or datetime.now(UTC))
    if abs(delta.total_seconds()) < 1:
        return "now"
    if delta.total_seconds() > 0:
        return f"in {duration(delta)}"
    return f"{duration(-delta)} ago"


def human_bytes(n: int | float) -> str:
    """``512 B`` / ``1.5 KiB`` / ``3.2 MiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def queue_json(q: QueueInfo) -> dict[str, Any]:
    """Asynqmon's ``QueueStateSnapshot`` plus the fields it lacks."""
    return {
        "queue": q.queue,
        "memory_usage_bytes": q.memory_usage,
        "size": q.size,
        "groups": q.groups,
        "latency_msec": round(q.latency.total_seconds() * 1000),
        "display_latency": duration(q.latency),
        "active": q.active,
        "pending": q.pending,
        "aggregating": q.aggregating,
        "scheduled": q.scheduled,
        "retry": q.retry,
        "archived": q.archived,
        "completed": q.completed,
        "processed": q.processed,
        "succeeded": q.processed - q.failed,
        "failed": q.failed,
        "processed_total": q.processed_total,
        "failed_total": q.failed_total,
        "paused": q.paused,
        "timestamp": iso(q.timestamp),
        "unreadable": list(q.unreadable),
    }


def daily_json(s: DailyStats) -> dict[str, Any]:
    """Asynqmon's ``DailyStats``."""
    return {
        "queue": s.queue,
        "processed": s.processed,
        "succeeded": s.processed - s.failed,
        "failed": s.failed,
        "date": f"{s.date:%Y-%m-%d}",
    }


def group_json(g: GroupInfo) -> dict[str, Any]:
    """``{"group", "size"}``."""
    return {"group": g.group, "size": g.size}


def _capped(name: str, data: bytes | None, limit: int | None) -> dict[str, Any]:
    """``bytes_fields`` of at most ``limit`` bytes, with ``<name>_size`` and
    ``<name>_truncated`` when the value was cut."""
    if limit is None or data is None or len(data) <= limit:
        return bytes_fields(name, data)
    head = utf8_head(data, limit)
    return {
        **bytes_fields(name, head),
        f"{name}_size": len(data),
        f"{name}_truncated": True,
    }


def task_json(
    t: TaskInfo, worker: WorkerInfo | None = None, max_bytes: int | None = None
) -> dict[str, Any]:
    """Asynqmon's ``TaskInfo`` fields plus group, retention, headers and encodings.

    ``max_bytes`` caps the payload and the result (see :func:`_capped`); ``unreadable`` names
    the fields that could not be read from Redis.
    """
    out: dict[str, Any] = {
        "id": t.id,
        "queue": t.queue,
        "type": t.type,
        **_capped("payload", t.payload, max_bytes),
        "state": t.state.value,
        "max_retry": t.max_retry,
        "retried": t.retried,
        "error_message": t.last_err,
        "last_failed_at": iso(t.last_failed_at),
        "timeout_seconds": int(t.timeout.total_seconds()),
        "deadline": iso(t.deadline),
        "next_process_at": iso(t.next_process_at),
        "group": t.group,
        "is_orphaned": t.is_orphaned,
        "completed_at": iso(t.completed_at),
        "retention_seconds": int(t.retention.total_seconds()),
        "ttl_seconds": ttl_seconds(t),
        "headers": dict(t.headers),
        **_capped("result", t.result, max_bytes),
        "unreadable": list(t.unreadable),
    }
    if t.state.value == "active":
        out["start_time"] = iso(worker.started) if worker else "-"
        out["deadline"] = iso(worker.deadline) if worker else out["deadline"] or "-"
    return out


def ttl_seconds(t: TaskInfo, now: datetime | None = None) -> int:
    """Seconds a completed task has left before Redis drops it (0 for other states), as Asynqmon."""
    if t.completed_at is None or t.state.value != "completed":
        return 0
    try:
        left = t.completed_at + t.retention - (now or datetime.now(UTC))
    except OverflowError:  # an expiry past year 9999: as good as never
        return 2**31 - 1
    return int(left.total_seconds())


def worker_json(w: WorkerInfo) -> dict[str, Any]:
    """Asynqmon's ``WorkerInfo``."""
    return {
        "task_id": w.task_id,
        "queue": w.queue,
        "task_type": w.task_type,
        **bytes_fields("task_payload", w.task_payload),
        "start_time": iso(w.started),
        "deadline": iso(w.deadline),
    }


def server_json(s: ServerInfo) -> dict[str, Any]:
    """Asynqmon's ``ServerInfo``."""
    return {
        "id": s.id,
        "host": s.host,
        "pid": s.pid,
        "concurrency": s.concurrency,
        "queue_priorities": dict(s.queues),
        "strict_priority_enabled": s.strict_priority,
        "start_time": iso(s.started),
        "status": s.status,
        "active_workers": [worker_json(w) for w in s.active_workers],
    }


def entry_json(e: SchedulerEntry) -> dict[str, Any]:
    """Asynqmon's ``SchedulerEntry`` (``prev_enqueue_at`` omitted before the first enqueue)."""
    out: dict[str, Any] = {
        "id": e.id,
        "spec": e.spec,
        "task_type": e.task.type,
        **bytes_fields("task_payload", e.task.payload),
        "options": list(e.opts),
        "next_enqueue_at": iso(e.next),
    }
    if e.prev is not None:
        out["prev_enqueue_at"] = iso(e.prev)
    return out


def event_json(e: SchedulerEnqueueEvent) -> dict[str, Any]:
    """Asynqmon's ``SchedulerEnqueueEvent``."""
    return {"task_id": e.task_id, "enqueued_at": iso(e.enqueued_at)}
