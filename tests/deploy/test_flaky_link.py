"""A worker and a producer behind a slow link that drops connections at random.

Tasks outlast several heartbeats, so their leases must be extended across the cuts; a lease
that lapsed would let the recoverer run the task a second time. The producer retries a failed
enqueue with the same ``task_id``: a ``TaskIDConflictError`` on the retry means the first try
was written after all.

A cut can also lose the reply of a worker's dequeue: the tasks are active in Redis but the
worker never heard of them. Only the recoverer brings those back, once their lease has
expired, so the test runs it every second (Go's pace is once a minute).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import asynq
from asynq import Task
from asynq._broker.ops import server_ops
from asynq.server import _heartbeat, _recoverer
from tests.deploy._proxy import FlakyProxy
from tests.deploy._support import Recorder, enqueue_until_known, serving, wait_drained

TASKS = 60


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[FlakyProxy]:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    flaky = FlakyProxy(port)
    await flaky.start()
    yield flaky
    await flaky.stop()


async def test_nothing_lost_and_no_lease_lapses_on_a_flaky_link(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, proxy: FlakyProxy
) -> None:
    # Leases of a few seconds, extended twice a second: a task running 1.5 s spans three
    # heartbeats, and a heartbeat lost to a cut must be made up by the next ones.
    monkeypatch.setattr(server_ops, "LEASE_DURATION", 6.0)
    monkeypatch.setattr(_heartbeat, "HEARTBEAT_INTERVAL", 0.5)
    monkeypatch.setattr(_recoverer, "RECOVER_INTERVAL", 1.0)
    recorder = Recorder(delay=1.5)
    ids = [f"flaky-{i}" for i in range(TASKS)]
    fast_retry = {"retry_delay_func": lambda n, exc, task: 0.5}
    async with serving(proxy.url, recorder, concurrency=20, **fast_retry):
        async with asynq.AsyncClient(proxy.url) as client:
            for task_id in ids:
                await enqueue_until_known(client, Task("work"), task_id)
        await recorder.wait_for(ids)
        await wait_drained(redis_url, ["default"])
    assert proxy.cuts > 0, "the proxy never cut a connection: the test proved nothing"
    assert recorder.runs == len(ids), "a task ran twice: its lease lapsed"
