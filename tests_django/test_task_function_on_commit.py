"""``@asynq.task`` functions and Django transactions: ``fn.enqueue_on_commit(...)`` through the
commit hook the app installs, and ``ASYNQ["ENQUEUE_ON_COMMIT"]`` deferring plain ``fn.enqueue``."""

from __future__ import annotations

import json

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.test import override_settings

import asynq
from asynq import Inspector, TaskState
from tests_django.shop import tasks
from tests_django.shop.models import Order


def stored(r: redis.Redis, task_id: str, queue: str = "default") -> bool:
    return r.exists(f"asynq:{{{queue}}}:t:{task_id}") == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_on_a_task_function(r: redis.Redis) -> None:
    with transaction.atomic():
        info = tasks.touch.enqueue_on_commit(5)
        assert info.state == TaskState.PENDING  # what it will be; nothing written yet
        assert not stored(r, info.id)
        with pytest.raises(asynq.ValidationError):
            tasks.touch.enqueue_on_commit(1, 2, 3)  # refused at once, not at commit
    sent = Inspector(r).get_task_info("default", info.id)
    assert (sent.type, json.loads(sent.payload)) == ("native:touch", {"order_id": 5})

    with pytest.raises(RuntimeError), transaction.atomic():
        dropped = tasks.touch.using(queue="critical").enqueue_on_commit(6)
        raise RuntimeError("roll back")
    assert not stored(r, dropped.id, "critical")

    at_once = tasks.touch.enqueue_on_commit(7)  # no transaction: sent now
    assert stored(r, at_once.id)


@pytest.mark.django_db(transaction=True)
def test_the_setting_defers_plain_enqueues_inside_atomic_blocks(r: redis.Redis) -> None:
    with override_settings(ASYNQ={**settings.ASYNQ, "ENQUEUE_ON_COMMIT": True}):
        with transaction.atomic():
            info = tasks.touch.enqueue(1)
            later = tasks.touch.enqueue_in(3600, 2)
            assert not stored(r, info.id) and not stored(r, later.id)
        assert Inspector(r).get_task_info("default", info.id).state == TaskState.PENDING
        assert Inspector(r).get_task_info("default", later.id).state == TaskState.SCHEDULED

        with pytest.raises(RuntimeError), transaction.atomic():
            dropped = tasks.touch.enqueue(3)
            raise RuntimeError("roll back")
        assert not stored(r, dropped.id)
        assert stored(r, tasks.touch.enqueue(4).id)  # outside a transaction: at once

    # The setting is read again when it changes: off by default, enqueues go out at once.
    with transaction.atomic():
        now = tasks.touch.enqueue(8)
        assert stored(r, now.id)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_using_database_waits_for_that_databases_transaction(r: redis.Redis) -> None:
    on_other = tasks.touch.using(database="other")
    with transaction.atomic(using="other"):
        info = on_other.enqueue_on_commit(1)
        with transaction.atomic():  # a transaction on "default" commits in between
            Order.objects.create()
        assert not stored(r, info.id)
    assert Inspector(r).get_task_info("default", info.id).state == TaskState.PENDING

    with pytest.raises(RuntimeError), transaction.atomic(using="other"):
        dropped = on_other.using(queue="critical").enqueue_on_commit(2)
        raise RuntimeError("roll back")
    assert not stored(r, dropped.id, "critical")

    with transaction.atomic():  # only "default" is in a transaction: "other" sends at once
        now = on_other.enqueue_on_commit(3)
        assert stored(r, now.id)


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_the_setting_defers_plain_enqueues_for_the_handles_database(r: redis.Redis) -> None:
    with override_settings(ASYNQ={**settings.ASYNQ, "ENQUEUE_ON_COMMIT": True}):
        with transaction.atomic(using="other"):
            info = tasks.touch.using(database="other").enqueue(1)
            assert not stored(r, info.id)
        assert stored(r, info.id)

        with transaction.atomic():  # "other" has no transaction: sent at once
            assert stored(r, tasks.touch.using(database="other").enqueue(2).id)
