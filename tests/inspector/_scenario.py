"""Queues holding tasks in every state, written by the Python Client and raw Go-layout seeds
(``python_scenario``) or by Go's own Client and Server (``GO_SEED``, run by ``insp_seed``).

Times are relative to ``now`` so the same scenario serves fake-clock tests and comparisons
with Go, which always uses the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asynq
from tests.helpers import seed


@dataclass
class Scenario:
    """The ids of a scenario's tasks per state; lists are in Go's listing order."""

    queue: str
    pending: list[str] = field(default_factory=list)  # oldest first
    active: list[str] = field(default_factory=list)  # oldest first
    orphaned: set[str] = field(default_factory=set)
    scheduled: list[str] = field(default_factory=list)  # soonest first
    retry: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    unique_scheduled: str = ""
    unique_pending: str = ""

    def all_ids(self) -> list[str]:
        ids = self.pending + self.active + self.scheduled + self.retry + self.archived
        ids += self.completed
        for members in self.groups.values():
            ids += members
        return ids


def python_scenario(r: Any, url: str, now: float, queue: str = "pq") -> Scenario:
    """Fill ``queue`` through the Python Client (pending, scheduled, groups) and seeds.

    Pending: 6 (the newest holds a uniqueness lock); active: 3 (the middle one's lease has
    expired); scheduled: 4 (one unique, one with headers); retry 2; archived 2; completed 2
    (one with a result); groups g1 (3 tasks) and g2 (1); counters for today and yesterday.
    """
    sec = int(now)
    sc = Scenario(queue)
    clock = asynq.FakeClock(now - 50)
    with asynq.Client(url, clock=clock) as client:
        for i in range(5):
            info = client.enqueue(asynq.Task("email:send", f"p{i}".encode()), queue=queue)
            sc.pending.append(info.id)
            clock.advance(10)
        # The newest pending task holds a uniqueness lock.
        info = client.enqueue(asynq.Task("email:send", b"p5"), queue=queue, unique=600)
        sc.pending.append(info.id)
        sc.unique_pending = info.id
        clock.set(now)
        s_late = client.enqueue_at(asynq.Task("report", b"s0"), sec + 100, queue=queue)
        s_soon = client.enqueue_at(asynq.Task("report", b"s1"), sec + 50, queue=queue)
        s_unique = client.enqueue(
            asynq.Task("report", b"s2"), queue=queue, process_in=200, unique=3600
        )
        s_headers = client.enqueue_at(
            asynq.Task("report", b"s3", headers={"trace": "abc"}),
            sec + 300,
            queue=queue,
            max_retry=3,
            timeout=60,
        )
        sc.scheduled = [s_soon.id, s_late.id, s_unique.id, s_headers.id]
        sc.unique_scheduled = s_unique.id
        clock.set(now - 30)
        for group, count in (("g1", 3), ("g2", 1)):
            for i in range(count):
                info = client.add_to_group(
                    asynq.Task("batch", f"{group}-{i}".encode()), group, queue=queue
                )
                sc.groups.setdefault(group, []).append(info.id)
                clock.advance(5)

    # Active tasks: pushed on the left, so the first seeded is the oldest.
    for lease in (sec + 1000, sec - 100, sec + 1000):
        sc.active.append(
            seed.active(r, seed.message("resize", b"img", queue=queue), lease_until=lease)
        )
    sc.orphaned = {sc.active[1]}

    r1 = seed.message(
        "email:send",
        b"r1",
        queue=queue,
        retried=3,
        error_msg="smtp down",
        last_failed_at=sec - 100,
    )
    r0 = seed.message(
        "email:send", b"r0", queue=queue, retried=1, error_msg="boom", last_failed_at=sec - 20
    )
    sc.retry = [seed.retry(r, r1, retry_at=sec + 30), seed.retry(r, r0, retry_at=sec + 60)]

    x1 = seed.message(
        "email:send",
        b"x1",
        queue=queue,
        retry=2,
        retried=2,
        error_msg="gave up",
        last_failed_at=sec - 2000,
    )
    x0 = seed.message("email:send", b"x0", queue=queue, deadline=sec + 9999, timeout=0)
    sc.archived = [
        seed.archived(r, x1, archived_at=sec - 2000),
        seed.archived(r, x0, archived_at=sec - 1000),
    ]

    c1 = seed.message("thumb", b"c1", queue=queue, retention=60, completed_at=sec - 100)
    c0 = seed.message("thumb", b"c0", queue=queue, retention=3600, completed_at=sec - 10)
    sc.completed = [seed.completed(r, c1), seed.completed(r, c0, result=b"res")]

    seed.counters(
        r, queue, day_unix=sec, processed=7, failed=2, processed_total=100, failed_total=20
    )
    seed.counters(r, queue, day_unix=sec - 86_400, processed=3, failed=1)
    return sc


#: What ``insp_seed`` enqueues through Go's Client: queue "gq" is only enqueued to; queue "gw"
#: is processed by a Go Server (two completed tasks with results, one task done and deleted,
#: two retries, two archived) so Go writes every state and counter itself.
GO_SEED: dict[str, Any] = {
    "tasks": [
        *({"type": "email", "payload": "cA==", "queue": "gq"} for _ in range(6)),
        {"type": "email", "payload": "dQ==", "queue": "gq", "unique": 600},
        {"type": "hdr", "queue": "gq", "headers": {"k": "v"}, "max_retry": 2, "timeout": 60},
        {"type": "later", "queue": "gq", "process_in": 3600},
        {"type": "later", "queue": "gq", "process_in": 60, "unique": 600},
        {"type": "later", "queue": "gq", "process_in": 1800, "deadline": 4102444800},
        *({"type": "batch", "queue": "gq", "group": "g1"} for _ in range(3)),
        {"type": "batch", "queue": "gq", "group": "g2"},
        {"type": "ok", "payload": "YQ==", "queue": "gw", "retention": 3600},
        {"type": "ok", "payload": "Yg==", "queue": "gw", "retention": 7200},
        {"type": "ok", "queue": "gw"},
        {"type": "fail", "queue": "gw"},
        {"type": "fail", "queue": "gw", "max_retry": 5},
        {"type": "fail", "queue": "gw", "max_retry": 0},
        {"type": "skip", "queue": "gw"},
    ],
    "process": ["gw"],
}
