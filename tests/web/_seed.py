"""One task in every state, a live server and a scheduler, written the way users' code would.

Pending, scheduled and aggregating tasks come from the real :class:`asynq.Client`; states no
client call produces (active, retry, archived, completed) and the server/scheduler records are
written in Go's layout by :mod:`tests.helpers.seed`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import asynq
from tests.helpers import seed

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


@dataclass
class Seeded:
    """Ids of what :func:`seed_everything` wrote."""

    ids: dict[str, str] = field(default_factory=dict)
    server_id: str = ""
    entry_id: str = ""
    now: int = 0


def seed_everything(r: Any, redis_url: str, queue: str = "default") -> Seeded:
    """Seed ``queue`` with one task per state, plus a server working on the active task."""
    now = int(time.time())
    out = Seeded(now=now)
    with asynq.Client(redis_url) as client:
        out.ids["pending"] = client.enqueue(asynq.Task("p", b'{"n": 1}'), queue=queue).id
        out.ids["scheduled"] = client.enqueue_in(asynq.Task("s", b"later"), 3600, queue=queue).id
        out.ids["aggregating"] = client.add_to_group(
            asynq.Task("g", b"grouped"), "grp", queue=queue
        ).id
    active = seed.message("a", b"busy", queue=queue)
    out.ids["active"] = seed.active(r, active, lease_until=now + 30)
    out.ids["retry"] = seed.retry(
        r,
        seed.message("r", b"again", queue=queue, retried=1, error_msg="boom", last_failed_at=now),
        retry_at=now + 600,
    )
    out.ids["archived"] = seed.archived(
        r,
        seed.message("x", b"dead", queue=queue, error_msg="fatal", last_failed_at=now),
        archived_at=now,
    )
    out.ids["completed"] = seed.completed(
        r,
        seed.message("c", b"done", queue=queue, retention=3600, completed_at=now),
        result=b'{"ok": true}',
    )
    info = seed.server_info(host="worker-1", pid=99, queues={queue: 1}, active_workers=1)
    worker = seed.worker_info(info, active, started=now - 3, deadline=now + 1800)
    seed.server(r, info, [worker], expires_at=now + 60)
    out.server_id = info.server_id
    entry = seed.scheduler_entry(
        spec="@every 1m", task_type="report", options=['Queue("low")'], next_unix=now + 60,
        prev_unix=now - 60,
    )  # fmt: skip
    seed.scheduler(r, "sched-host:1:abc", [entry], expires_at=now + 60)
    seed.scheduler_event(r, entry.id, "event-task-1", enqueued_ns=(now - 60) * 10**9)
    out.entry_id = entry.id
    seed.counters(
        r, queue, day_unix=now, processed=10, failed=3, processed_total=50, failed_total=7
    )
    return out
