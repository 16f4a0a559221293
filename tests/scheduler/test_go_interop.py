"""Go asynq v0.26.0 reads a Python scheduler, and a Go scheduler writes what Python writes.

- ``sched_inspect`` runs Go's ``Inspector.SchedulerEntries()`` and
  ``ListSchedulerEnqueueEvents`` against a running Python scheduler.
- ``insp_scheduler`` is a Go scheduler registering three entries; a Python scheduler registering
  the same three must publish the same entry list.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pytest
import redis

import asynq
from asynq._base.codec import SchedulerEntryMessage
from asynq.scheduler import Scheduler
from tests.helpers import gopeer
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.interop


def register_like_insp_scheduler(s: Scheduler) -> dict[str, str]:
    """The registrations of ``tests/go/cmd/insp_scheduler``, in Python."""
    return {
        "tick": s.register(
            "@every 1s",
            asynq.Task("tick", b"tock"),
            queue="sq",
            max_retry=3,
            timeout=90,
            retention=7200,
            group="g",
            deadline=datetime(2100, 1, 1, tzinfo=UTC),
        ),
        "hourly": s.register("@every 1h", asynq.Task("hourly")),
        "yearly": s.register("0 0 1 1 *", asynq.Task("yearly", b"\x01\x02"), process_in=600),
    }


def raw_entries(r: redis.Redis, scheduler_key: str) -> list[SchedulerEntryMessage]:
    out = []
    for raw in r.lrange(scheduler_key, 0, -1):
        e = SchedulerEntryMessage()
        e.ParseFromString(raw)
        out.append(e)
    return out


async def test_go_inspector_reads_python_scheduler(make_scheduler, r, go_redis) -> None:
    s = make_scheduler(heartbeat_interval=0.2)
    ids = register_like_insp_scheduler(s)
    await s.start()
    history_key = f"asynq:scheduler_history:{ids['tick']}"
    await wait_until(lambda: r.zcard(history_key) >= 2)
    key = f"asynq:schedulers:{{{s.id}}}"
    await wait_until(
        lambda: any(
            e.id == ids["tick"] and e.prev_enqueue_time.seconds > 0 for e in raw_entries(r, key)
        )
    )

    out = await asyncio.to_thread(gopeer.run_go_json, "sched_inspect", *go_redis)
    entries = {e["id"]: e for e in out["entries"]}
    assert set(entries) == set(ids.values())

    tick = entries[ids["tick"]]
    assert (tick["spec"], tick["type"], tick["payload"]) == ("@every 1s", "tick", "dG9jaw==")
    # Go's Inspector parses the option strings back; it drops Group
    # (docs/compatibility.md#quirk-scheduler-option-strings).
    assert tick["opts"] == [
        'Queue("sq")',
        "MaxRetry(3)",
        "Timeout(1m30s)",
        "Retention(2h0m0s)",
        "Deadline(Fri Jan  1 00:00:00 UTC 2100)",
    ]
    assert not tick["prev"]["zero"] and tick["prev"]["nanos"] == 0
    assert tick["next"]["nanos"] == 0 and tick["next"]["unix"] > tick["prev"]["unix"]

    yearly = entries[ids["yearly"]]
    assert yearly["opts"] == ["ProcessIn(10m0s)"]
    assert yearly["prev"]["zero"]  # never ran: Go's zero time, not the epoch
    assert yearly["next"] == {
        "unix": int(datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC).timestamp()),
        "nanos": 0,
        "zero": False,
    }
    assert entries[ids["hourly"]]["opts"] == []

    # ListSchedulerEnqueueEvents: newest first, the tasks Python enqueued
    py_events = r.zrevrange(history_key, 0, -1, withscores=True)
    go_events = tick["events"]
    assert len(go_events) >= 2
    for ev in go_events:  # Group("g") made them aggregating tasks of queue "sq"
        assert r.hget(f"asynq:{{sq}}:t:{ev['task_id']}", "state") == b"aggregating"
    for ev, (_, score) in zip(go_events, py_events, strict=False):
        assert ev["enqueued_at"]["unix"] == score
    assert [e["enqueued_at"]["unix"] for e in go_events] == sorted(
        (e["enqueued_at"]["unix"] for e in go_events), reverse=True
    )


async def test_go_inspector_lists_every_replica(make_scheduler, r, go_redis) -> None:
    replicas = [make_scheduler(heartbeat_interval=0.2) for _ in range(2)]
    ids = [s.register("@every 1s", asynq.Task("tick")) for s in replicas]
    for s in replicas:
        await s.start()
    await wait_until(lambda: r.zcard("asynq:schedulers") == 2)
    # In a thread, so the replicas keep renewing their 1 s registrations while Go reads them.
    out = await asyncio.to_thread(gopeer.run_go_json, "sched_inspect", *go_redis)
    assert sorted(e["id"] for e in out["entries"]) == sorted(ids)


async def test_python_entries_equal_a_go_schedulers(make_scheduler, r, redis_url) -> None:
    u = urlparse(redis_url)
    go = gopeer.start_go("insp_scheduler", "-redis", f"{u.hostname}:{u.port}", "-heartbeat", "1s")
    try:
        await wait_until(lambda: r.zcard("asynq:schedulers") == 1, within=15)
        [go_key] = r.zrange("asynq:schedulers", 0, -1)
        await wait_until(lambda: r.exists(go_key))
        go_entries = raw_entries(r, go_key.decode())
    finally:
        go.stop()

    s = make_scheduler(heartbeat_interval=0.2, dedup=False)  # Go's timing
    register_like_insp_scheduler(s)
    await s.start()
    key = f"asynq:schedulers:{{{s.id}}}"
    await wait_until(lambda: r.exists(key))
    py_entries = raw_entries(r, key)

    def shape(entries: list[SchedulerEntryMessage]) -> list[tuple[Any, ...]]:
        return [(e.spec, e.task_type, e.task_payload, list(e.enqueue_options)) for e in entries]

    assert shape(py_entries) == shape(go_entries)
    assert [e.prev_enqueue_time.seconds for e in py_entries][:2] == [
        e.prev_enqueue_time.seconds for e in go_entries
    ][:2]
