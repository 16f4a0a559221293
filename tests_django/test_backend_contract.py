"""The checks of Django's own task backend tests (``tests/tasks`` in Django's source) that apply
to a backend whose tasks run in a worker: each asserts what Django's asserts for its built-in
backends, with the task run by the asynq worker in between."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from datetime import datetime
from typing import Any

import django
import pytest
from asgiref.sync import sync_to_async

from asynq_django.tasks_api import TaskResultDoesNotExist, TaskResultStatus, task_backends
from asynq_django.testing import run_burst_worker
from tests_django.shop import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_with_invalid_argument() -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        tasks.add.enqueue(datetime.now(), 1)


async def test_aenqueue_with_invalid_argument() -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        await tasks.add.aenqueue(datetime.now(), 1)


@pytest.mark.parametrize("task", [tasks.add, tasks.add_async], ids=["def", "async-def"])
def test_enqueue_task(task: Any) -> None:
    result = task.enqueue(1, b=2)
    assert result.status == TaskResultStatus.READY
    assert result.started_at is None and result.finished_at is None
    with pytest.raises(ValueError, match="Task has not finished yet"):
        result.return_value  # noqa: B018
    assert result.task == task
    assert (result.args, result.kwargs) == ([1], {"b": 2})
    assert result.backend == "default" and result.errors == [] and result.worker_ids == []


@pytest.mark.parametrize("task", [tasks.add, tasks.add_async], ids=["def", "async-def"])
async def test_enqueue_task_async(task: Any) -> None:
    result = await task.aenqueue(1, 2)
    assert result.status == TaskResultStatus.READY
    assert result.started_at is None and result.finished_at is None
    assert (result.task, result.args, result.kwargs) == (task, [1, 2], {})


def test_get_result() -> None:
    result = task_backends["default"].enqueue(tasks.add, (1, 2), {})
    assert task_backends["default"].get_result(result.id) == result


async def test_get_result_async() -> None:
    result = await task_backends["default"].aenqueue(tasks.add, (1, 2), {})
    assert await task_backends["default"].aget_result(result.id) == result


def test_enqueue_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = "django.tasks" if django.VERSION >= (6,) else "django_tasks"
    with caplog.at_level(logging.DEBUG, logger=logger):
        result = tasks.add.enqueue(1, 2)
    [record] = [r for r in caplog.records if result.id in r.getMessage()]
    assert "enqueued" in record.getMessage().lower()


async def test_refresh_result() -> None:
    result = await tasks.add.aenqueue(1, 2)
    original = dataclasses.asdict(result)
    await result.arefresh()
    assert dataclasses.asdict(result) == original


def test_refresh_after_the_worker_ran() -> None:
    result = tasks.add.enqueue(1, 2)
    run_burst_worker()
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"sum": 3}
    assert result.enqueued_at <= result.started_at <= result.finished_at


async def test_get_missing_result() -> None:
    with pytest.raises(TaskResultDoesNotExist):
        await sync_to_async(task_backends["default"].get_result)("123")
    with pytest.raises(TaskResultDoesNotExist):
        await task_backends["default"].aget_result("123")


@pytest.mark.skipif(django.VERSION < (6, 1), reason="Django 6.1 made tasks picklable")
def test_pickle_task_result() -> None:
    result = tasks.add.enqueue(1, 2)
    assert pickle.loads(pickle.dumps(result)) == result


def test_complex_exception() -> None:
    result = tasks.complex_exception.enqueue()
    run_burst_worker()
    failed = tasks.complex_exception.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    with pytest.raises(ValueError, match="Task failed"):
        failed.return_value  # noqa: B018
    assert failed.enqueued_at <= failed.started_at <= failed.finished_at
    assert failed.errors[0].exception_class is ValueError
    assert 'ValueError(ValueError("This task failed"))' in failed.errors[0].traceback


def test_complex_return_value() -> None:
    result = tasks.complex_return_value.enqueue()
    run_burst_worker()
    failed = tasks.complex_return_value.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[0].exception_class is TypeError
    assert "Unsupported type" in failed.errors[0].traceback


def test_a_task_calling_exit_fails_without_stopping_the_worker() -> None:
    exited = tasks.exit_task.enqueue()
    after = tasks.add.enqueue(2, 2)
    run_burst_worker()
    failed = tasks.exit_task.get_result(exited.id)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.errors[0].exception_class is SystemExit
    assert tasks.add.get_result(after.id).return_value == {"sum": 4}
