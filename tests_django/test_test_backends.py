"""The test doubles of AsynqBackend: Django's Immediate and Dummy backends with asynq's options."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from asynq_django.tasks_api import task_backends
from tests_django.shop import tasks
from tests_django.shop.models import Order

IMMEDIATE = {"default": {"BACKEND": "asynq_django.backend.ImmediateAsynqBackend"}}
DUMMY = {"default": {"BACKEND": "asynq_django.backend.DummyAsynqBackend"}}


@pytest.mark.django_db(transaction=True)
def test_immediate_runs_tasks_with_asynq_options_in_place(r: object) -> None:
    with override_settings(TASKS=IMMEDIATE):
        task = tasks.send_email.using(backend="default")  # declared with type= and max_retry=
        result = task.enqueue("now@example.com")
        assert (result.status, result.return_value) == ("SUCCESSFUL", "sent to now@example.com")
        with transaction.atomic():
            task.enqueue_on_commit("later@example.com")
            assert not Order.objects.filter(note="later@example.com").exists()
        assert Order.objects.filter(note="later@example.com").exists()
    assert r.keys("asynq:*") == []  # nothing went to Redis


def test_dummy_records_without_running(r: object) -> None:
    with override_settings(TASKS=DUMMY):
        result = tasks.add.using(backend="default").enqueue(1, 2)
        backend = task_backends["default"]
        assert [(x.id, x.status, x.args) for x in backend.results] == [(result.id, "READY", [1, 2])]
        backend.clear()
    assert r.keys("asynq:*") == []
