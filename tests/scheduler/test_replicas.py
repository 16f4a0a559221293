"""Several scheduler replicas running one schedule enqueue each tick once (dedup, the default).

Without dedup they behave like Go's schedulers: every replica enqueues every tick.
"""

from __future__ import annotations

from typing import Any

import redis

import asynq
from asynq.scheduler import Scheduler, schedule_fingerprint
from tests.helpers.waiting import wait_until


def pending_ids(r: redis.Redis) -> list[bytes]:
    return list(r.lrange("asynq:{default}:pending", 0, -1))


def tick_keys(r: redis.Redis) -> dict[int, bytes]:
    keys = r.keys("asynq:scheduler_tick:*")
    return {int(k.rsplit(b":", 1)[1]): r.get(k) for k in keys}


def prev_tick(s: Scheduler) -> float | None:
    prev = s.entries()[0].prev
    return None if prev is None else prev.timestamp()


def two_replicas(
    make_scheduler: Any, **kwargs: Any
) -> tuple[list[Scheduler], list[str], list[Any]]:
    enqueued: list[Any] = []
    replicas, entry_ids = [], []
    for _ in range(2):
        s = make_scheduler(post_enqueue=lambda info, err: enqueued.append((info, err)), **kwargs)
        entry_ids.append(s.register("@every 1s", asynq.Task("tick", b"{}"), queue="default"))
        replicas.append(s)
    return replicas, entry_ids, enqueued


async def test_real_clock_one_task_per_tick(make_scheduler, r) -> None:
    replicas, entry_ids, enqueued = two_replicas(make_scheduler)
    for s in replicas:
        await s.start()
    await wait_until(lambda: len(tick_keys(r)) >= 4)
    for s in replicas:
        await s.shutdown()  # waits for enqueues in flight

    ticks = tick_keys(r)
    ids = pending_ids(r)
    assert len(ids) == len(ticks) == len(enqueued)
    assert all(err is None for _, err in enqueued)
    assert sorted(ticks) == list(range(min(ticks), max(ticks) + 1))  # one per second, no gaps
    # every claim names the entry of the replica that won it
    assert set(ticks.values()) <= {e.encode() for e in entry_ids}
    fingerprint = schedule_fingerprint("@every 1s", asynq.Task("tick", b"{}"), {"queue": "default"})
    assert all(r.ttl(f"asynq:scheduler_tick:{fingerprint}:{t}") > 0 for t in ticks)


async def test_fake_clock_one_task_per_tick(make_scheduler, r) -> None:
    clock = asynq.FakeClock(1700000000.5)
    replicas, _, enqueued = two_replicas(make_scheduler, clock=clock)
    for s in replicas:
        await s.start()
    for n in range(1, 4):
        clock.advance(1)
        tick = 1700000000 + n
        await wait_until(lambda t=tick: all(prev_tick(s) == t for s in replicas))
        await wait_until(lambda n=n: len(pending_ids(r)) == n)
    for s in replicas:
        await s.shutdown()
    assert len(pending_ids(r)) == 3
    assert sorted(tick_keys(r)) == [1700000001, 1700000002, 1700000003]
    assert len(enqueued) == 3


async def test_each_replica_records_the_history_of_its_own_ticks(make_scheduler, r) -> None:
    replicas, entry_ids, _ = two_replicas(make_scheduler)
    for s in replicas:
        await s.start()
    await wait_until(lambda: len(tick_keys(r)) >= 3)
    await wait_until(lambda: all(r.exists(f"asynq:schedulers:{{{s.id}}}") for s in replicas))
    ticks = tick_keys(r)
    for entry_id in entry_ids:
        won = sum(1 for owner in ticks.values() if owner == entry_id.encode())
        await wait_until(lambda e=entry_id, w=won: r.zcard(f"asynq:scheduler_history:{e}") >= w)
    # both replicas publish their entries, so Go's tools list both
    assert r.zcard("asynq:schedulers") == 2


async def test_without_dedup_every_replica_enqueues_every_tick(make_scheduler, r) -> None:
    clock = asynq.FakeClock(1700000000.5)
    replicas, _, enqueued = two_replicas(make_scheduler, clock=clock, dedup=False)
    for s in replicas:
        await s.start()
    for n in range(1, 3):
        clock.advance(1)
        await wait_until(lambda n=n: len(pending_ids(r)) == 2 * n)
    for s in replicas:
        await s.shutdown()
    assert len(pending_ids(r)) == 4 and len(enqueued) == 4
    assert tick_keys(r) == {}


async def test_different_tasks_do_not_share_ticks(make_scheduler, r) -> None:
    clock = asynq.FakeClock(1700000000.5)
    a = make_scheduler(clock=clock)
    b = make_scheduler(clock=clock)
    a.register("@every 1s", asynq.Task("tick", b"a"))
    b.register("@every 1s", asynq.Task("tick", b"b"))
    await a.start()
    await b.start()
    clock.advance(1)
    await wait_until(lambda: len(pending_ids(r)) == 2)
    assert len(r.keys("asynq:scheduler_tick:*:1700000001")) == 2


def test_fingerprint_covers_what_is_enqueued() -> None:
    base = schedule_fingerprint("@every 1s", asynq.Task("t", b"p"), {"queue": "q"})
    assert base == schedule_fingerprint("@every 1s", asynq.Task("t", b"p", queue="q"), {})
    assert len(base) == 64
    variants = [
        schedule_fingerprint("@every 2s", asynq.Task("t", b"p"), {"queue": "q"}),
        schedule_fingerprint("@every 1s", asynq.Task("u", b"p"), {"queue": "q"}),
        schedule_fingerprint("@every 1s", asynq.Task("t", b"x"), {"queue": "q"}),
        schedule_fingerprint("@every 1s", asynq.Task("t", b"p"), {"queue": "r"}),
        schedule_fingerprint(
            "@every 1s", asynq.Task("t", b"p", headers={"a": "b"}), {"queue": "q"}
        ),
        schedule_fingerprint("@every 1s", asynq.Task("t", b"p"), {"queue": "q", "max_retry": 1}),
    ]
    assert len({base, *variants}) == 7
