"""Database connections around tasks: closed before and after each one, in its own thread."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from asynq import Inspector, Server
from asynq_django.clients import get_inspector
from asynq_django.conf import get_settings
from asynq_django.worker import DjangoHandler, worker_config
from tests_django.shop import tasks
from tests_django.shop.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def drain_in_process(concurrency: int = 1, **config: Any) -> str:
    """Run the worker's handler in this process until the default queue has no pending or
    retry task; return the worker id."""
    settings = get_settings()
    server = Server(
        settings.connection(), worker_config(settings, concurrency=concurrency, **config)
    )

    def busy() -> bool:
        queue = get_inspector().get_queue_info("default")
        return bool(queue.pending or queue.retry or server.in_flight)

    async def run() -> None:
        await server.start(DjangoHandler(settings, worker_id=server.server_id))
        deadline = time.monotonic() + 30
        try:
            while busy():
                assert time.monotonic() < deadline, "the worker did not drain the queue"
                await asyncio.sleep(0.05)
        finally:
            await server.shutdown()

    asyncio.run(run())
    return server.server_id


@pytest.mark.parametrize(
    "send",
    [
        lambda pk, drop: tasks.connection_state.enqueue(pk, drop=drop),
        lambda pk, drop: tasks.connection_state_task.enqueue(pk, drop=drop),
    ],
    ids=["asynq-task-function", "django-task"],
)
def test_a_connection_dropped_between_tasks_is_replaced(r: Any, send: Any) -> None:
    order = Order.objects.create()
    for _ in range(4):
        send(order.pk, True)  # each task leaves a dead connection behind in its thread
    drain_in_process(concurrency=1)

    notes = [n for n in Order.objects.get(pk=order.pk).note.split(";") if n]
    assert len(notes) == 4  # no task failed on the connection its predecessor dropped
    threads = [n.split(":")[0] for n in notes]
    assert len(set(threads)) < len(threads)  # some tasks did reuse a thread
    assert all(n.endswith(":False") for n in notes)  # each began without a stale connection
    queue = Inspector(r).get_queue_info("default")
    assert (queue.retry, queue.archived, queue.processed) == (0, 0, 4)
