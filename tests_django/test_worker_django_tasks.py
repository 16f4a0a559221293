"""The worker keeps Django's task bookkeeping: signals, TaskContext, worker ids, errors."""

from __future__ import annotations

from typing import Any

import pytest

from asynq_django.tasks_api import task_finished, task_started
from asynq_django.testing import run_burst_worker
from tests_django.shop import tasks

pytestmark = pytest.mark.django_db(transaction=True)

QUICK_RETRIES = {"retry_delay_func": lambda n, exc, task: 0, "delayed_task_check_interval": 0.1}


def test_signals_context_and_worker_ids_across_retries() -> None:
    seen: list[tuple[str, str, int]] = []

    def on_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append(("started", task_result.status, task_result.attempts))

    def on_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append(("finished", task_result.status, task_result.attempts))

    task_started.connect(on_started)
    task_finished.connect(on_finished)
    try:
        result = tasks.attempt_number.enqueue(fail_until=3)
        worker_id = run_burst_worker(**QUICK_RETRIES)
    finally:
        task_started.disconnect(on_started)
        task_finished.disconnect(on_finished)

    final = tasks.attempt_number.get_result(result.id)
    assert final.status == "SUCCESSFUL"
    assert final.return_value == 3  # TaskContext.attempt counted the attempts
    assert final.worker_ids == [worker_id] * 3
    assert [e.exception_class for e in final.errors] == [RuntimeError, RuntimeError]
    assert "RuntimeError: attempt 1" in final.errors[0].traceback
    assert final.started_at <= final.last_attempted_at <= final.finished_at
    # Started on every attempt; finished once, when the outcome is final.
    assert seen == [
        ("started", "RUNNING", 1),
        ("started", "RUNNING", 2),
        ("started", "RUNNING", 3),
        ("finished", "SUCCESSFUL", 3),
    ]


def test_a_failure_without_retries_left_finishes_as_failed() -> None:
    finished: list[Any] = []
    receiver = lambda sender, task_result, **kw: finished.append(task_result)  # noqa: E731
    task_finished.connect(receiver)
    try:
        result = tasks.explode.enqueue("no retries")
        run_burst_worker()
    finally:
        task_finished.disconnect(receiver)
    [outcome] = finished
    assert (outcome.id, outcome.status) == (result.id, "FAILED")
    assert outcome.errors[0].exception_class is ValueError
    assert tasks.explode.get_result(result.id).status == "FAILED"


def test_async_tasks_use_the_async_orm() -> None:
    from tests_django.shop.models import Order

    order = Order.objects.create()
    result = tasks.ship.using(queue_name="default").enqueue(order.pk)
    run_burst_worker()
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert tasks.ship.get_result(result.id).return_value == "shipped"


def test_a_payload_that_is_not_the_call_json_is_archived_at_once(r: Any) -> None:
    from asynq import Client, Inspector, Task

    info = Client(r).enqueue(Task("tests_django.shop.tasks.add", b"[1, 2]"), max_retry=5)
    run_burst_worker()
    archived = Inspector(r).get_task_info("default", info.id)
    assert archived.state == "archived"
    assert "payload must be a JSON object" in archived.last_err
