"""Database connections around tasks: closed before and after each one, in its own thread."""

from __future__ import annotations

from typing import Any

import pytest

from asynq import Inspector
from asynq_django.testing import run_burst_worker
from tests_django.shop import tasks
from tests_django.shop.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


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
    run_burst_worker(concurrency=1)

    notes = [n for n in Order.objects.get(pk=order.pk).note.split(";") if n]
    assert len(notes) == 4  # no task failed on the connection its predecessor dropped
    threads = [n.split(":")[0] for n in notes]
    assert len(set(threads)) < len(threads)  # some tasks did reuse a thread
    assert all(n.endswith(":False") for n in notes)  # each began without a stale connection
    queue = Inspector(r).get_queue_info("default")
    assert (queue.retry, queue.archived, queue.processed) == (0, 0, 4)
