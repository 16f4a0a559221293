"""Producer, worker, scheduler and Inspector together on the 3-master Redis Cluster, with one
queue per master: scheduled tasks, retries, archiving and running an archived task again,
retention, group aggregation, pausing, deleting, and periodic tasks all work on every master.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from redis.cluster import RedisCluster

import asynq
from asynq import SkipRetry, Task
from asynq._base import keys
from tests.deploy._support import serving, wait_drained
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.cluster


@pytest.fixture
def spread(cluster: Any) -> Iterator[list[str]]:
    """Three queue names whose keys live on three different masters."""
    host, port = cluster.addrs[0]
    rc = RedisCluster(host=host, port=port)
    try:
        owners: dict[str, str] = {}
        for i in range(500):
            node = rc.get_node_from_key(keys.pending_key(f"e2e-{i}"))
            if node.name not in owners.values():
                owners[f"e2e-{i}"] = node.name
        assert len(owners) == 3
        yield list(owners)
    finally:
        rc.close()


class Handler:
    """Records ``(queue, type, payload)`` of each finished task; ``flaky`` fails once, ``skip``
    is archived the first time it runs."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str, bytes]] = []
        self.skipped: set[str] = set()

    async def __call__(self, task: asynq.ActiveTask) -> None:
        if task.type == "flaky" and task.retry_count == 0:
            raise RuntimeError("first try fails")
        if task.type == "skip" and task.id not in self.skipped:
            self.skipped.add(task.id)
            raise SkipRetry("not now")
        self.done.append((task.queue, task.type, task.payload or b""))

    def count(self, queue: str, type_: str) -> int:
        return sum(1 for q, t, _ in self.done if (q, t) == (queue, type_))


def _join(group: str, tasks: list[Task]) -> Task:
    return Task("batch", b",".join(t.payload or b"" for t in tasks))


async def test_everything_on_every_master(cluster: Any, spread: list[str]) -> None:
    url = cluster.url
    handler = Handler()
    scheduler = asynq.Scheduler(url)
    for q in spread:
        scheduler.register("@every 1s", Task("tick"), queue=q)
    config = {
        "retry_delay_func": lambda n, e, t: 0.2,
        "group_aggregator": _join,
        "group_grace_period": 1,
        "queues": dict.fromkeys(spread, 1),
    }
    async with (
        asynq.AsyncClient(url) as client,
        asynq.AsyncInspector(url) as insp,
        serving(url, handler, **config),
    ):
        await scheduler.start()
        try:
            far: dict[str, str] = {}
            for q in spread:
                await client.enqueue(Task("later"), queue=q, process_in=1)
                await client.enqueue(Task("flaky"), queue=q)
                await client.enqueue(Task("skip"), queue=q)
                await client.enqueue(Task("kept"), queue=q, retention=60)
                for part in (b"a", b"b", b"c"):
                    await client.add_to_group(Task("part", part), "g", queue=q)
                far[q] = (await client.enqueue(Task("never"), queue=q, process_in=3600)).id

            def finished() -> bool:
                wanted = ("later", "flaky", "kept", "batch", "tick")
                return all(handler.count(q, t) >= 1 for q in spread for t in wanted)

            await wait_until(finished, within=45, interval=0.1)
            for q in spread:
                batch = [p for qq, t, p in handler.done if (qq, t) == (q, "batch")]
                assert sorted(batch[0].split(b",")) == [b"a", b"b", b"c"]
                # The archived task runs again when asked to.
                archived = await wait_until(lambda q=q: insp.list_archived_tasks(q), within=30)
                assert [t.type for t in archived] == ["skip"]
                await insp.run_task(q, archived[0].id)
                completed = await insp.list_completed_tasks(q)
                assert [t.type for t in completed] == ["kept"]
                await insp.delete_task(q, far[q])
            await wait_until(lambda: all(handler.count(q, "skip") == 1 for q in spread), 30)

            # A paused queue keeps its tasks until it is unpaused.
            paused = spread[0]
            await insp.pause_queue(paused)
            held = (await client.enqueue(Task("held"), queue=paused)).id
            await asyncio.sleep(1)
            assert handler.count(paused, "held") == 0
            assert (await insp.get_task_info(paused, held)).state == asynq.TaskState.PENDING
            await insp.unpause_queue(paused)
            await wait_until(lambda: handler.count(paused, "held") == 1, within=30)
        finally:
            await scheduler.shutdown()
        await wait_drained(url, spread)
