"""Database connections around tasks: closed before and after each one, in its own thread."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections

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
        lambda pk, drop: tasks.connection_state_async.enqueue(pk, drop=drop),
    ],
    ids=["asynq-task-function", "django-task", "async-django-task"],
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


def test_conn_max_age_keeps_a_healthy_connection_for_the_threads_next_task(
    r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Persistent connections (CONN_MAX_AGE=None): close_old_connections() keeps them, so the
    # worker is not closing every connection blindly; only old or broken ones go.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", None)
    order = Order.objects.create()
    for _ in range(4):
        tasks.connection_state.enqueue(order.pk)
    run_burst_worker(concurrency=1)

    notes = [n.split(":") for n in Order.objects.get(pk=order.pk).note.split(";") if n]
    assert len(notes) == 4
    seen: set[str] = set()
    for thread, was_open in notes:  # open exactly when the thread ran a task before
        assert was_open == str(thread in seen), notes
        seen.add(thread)
    assert len(seen) < len(notes)  # some tasks did reuse a thread
