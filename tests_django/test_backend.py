"""The django.tasks backend: what an enqueue writes to Redis, and results read back from it."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from asynq import Inspector, TaskState
from asynq_django.tasks_api import InvalidTask, TaskResultDoesNotExist, TaskResultStatus
from tests_django.shop import tasks
from tests_django.shop.models import Order


def task_hash(r: redis.Redis, queue: str, task_id: str) -> dict[bytes, bytes]:
    return r.hgetall(f"asynq:{{{queue}}}:t:{task_id}")


def test_enqueue_writes_an_asynq_task_go_can_read(r: redis.Redis) -> None:
    result = tasks.add.enqueue(2, b=3)
    assert result.status == TaskResultStatus.READY
    assert result.enqueued_at is not None
    info = Inspector(r).get_task_info("default", result.id)
    assert info.type == "tests_django.shop.tasks.add"
    assert json.loads(info.payload) == {"args": [2], "kwargs": {"b": 3}}
    assert info.state == TaskState.PENDING
    assert info.retention == timedelta(seconds=600)  # ASYNQ RETENTION
    assert info.max_retry == 25


def test_task_options_reach_asynq(r: redis.Redis) -> None:
    result = tasks.send_email.using(queue_name="critical").enqueue("ada@example.com")
    info = Inspector(r).get_task_info("critical", result.id)
    assert info.type == "email:send"
    assert info.max_retry == 0


def test_run_after_schedules_the_task(r: redis.Redis) -> None:
    when = timezone.now() + timedelta(hours=1)
    result = tasks.add.using(run_after=when).enqueue(1, 1)
    info = Inspector(r).get_task_info("default", result.id)
    assert info.state == TaskState.SCHEDULED
    assert abs((info.next_process_at - when).total_seconds()) < 1
    assert tasks.add.get_result(result.id).status == TaskResultStatus.READY


def test_get_result_maps_asynq_states_to_django_statuses(r: redis.Redis) -> None:
    result = tasks.add.enqueue(1, 2)
    fetched = tasks.add.get_result(result.id)
    assert (fetched.status, fetched.args, fetched.kwargs) == ("READY", [1, 2], {})
    assert fetched.enqueued_at == result.enqueued_at
    Inspector(r).archive_task("default", result.id)
    failed = tasks.add.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    with pytest.raises(ValueError):
        failed.return_value  # noqa: B018


async def test_async_enqueue_and_get_result(r: redis.Redis) -> None:
    result = await tasks.ship.aenqueue(7)
    assert Inspector(r).get_task_info("critical", result.id).type == "tests_django.shop.tasks.ship"
    fetched = await tasks.ship.aget_result(result.id)
    assert (fetched.status, fetched.args) == (TaskResultStatus.READY, [7])
    await fetched.arefresh()


def test_unknown_ids_and_other_tasks_results_are_refused() -> None:
    with pytest.raises(TaskResultDoesNotExist):
        tasks.add.get_result("no-such-id")
    result = tasks.add.enqueue(1, 2)
    from asynq_django.tasks_api import task_backends

    assert task_backends["default"].get_result(result.id).task.func is tasks.add.func
    with pytest.raises(Exception, match="Task does not match"):
        tasks.mark_paid.get_result(result.id)


def test_priority_is_refused_honestly_and_queues_are_checked() -> None:
    from asynq_django.tasks_api import task_backends

    backend = task_backends["default"]
    assert (backend.supports_defer, backend.supports_async_task) == (True, True)
    assert (backend.supports_get_result, backend.supports_priority) == (True, False)
    with pytest.raises(InvalidTask):
        tasks.add.using(priority=10)
    with pytest.raises(InvalidTask):
        tasks.add.using(queue_name="nope")


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_commit_and_drops_on_rollback(r: redis.Redis) -> None:
    with transaction.atomic():
        kept = tasks.add.enqueue_on_commit(1, 1)
        assert r.exists(f"asynq:{{default}}:t:{kept.id}") == 0
    assert task_hash(r, "default", kept.id)[b"state"] == b"pending"
    with pytest.raises(RuntimeError), transaction.atomic():
        dropped = tasks.add.enqueue_on_commit(2, 2)
        raise RuntimeError("roll back")
    assert r.exists(f"asynq:{{default}}:t:{dropped.id}") == 0
    outside = tasks.add.enqueue_on_commit(3, 3)  # no transaction: at once
    assert r.exists(f"asynq:{{default}}:t:{outside.id}") == 1


@pytest.mark.django_db(transaction=True, databases=["default"])
def test_enqueue_on_commit_option_defers_every_enqueue_in_atomic_blocks(r: redis.Redis) -> None:
    tasks_setting = {
        "default": {
            "BACKEND": "asynq_django.backend.AsynqBackend",
            "OPTIONS": {"ENQUEUE_ON_COMMIT": True},
        }
    }
    with override_settings(TASKS=tasks_setting):
        with transaction.atomic():
            result = tasks.add.enqueue(1, 1)
            assert r.exists(f"asynq:{{default}}:t:{result.id}") == 0
        assert r.exists(f"asynq:{{default}}:t:{result.id}") == 1
        with pytest.raises(RuntimeError), transaction.atomic():
            dropped = tasks.add.enqueue(2, 2)
            raise RuntimeError("roll back")
        assert r.exists(f"asynq:{{default}}:t:{dropped.id}") == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_takes_task_functions_and_plain_tasks(r: redis.Redis) -> None:
    import asynq
    from asynq_django import enqueue_on_commit

    with transaction.atomic():
        fn_id = enqueue_on_commit(tasks.touch, 5)
        task_id = enqueue_on_commit(asynq.Task("plain:task"), queue="critical")
        assert r.exists(f"asynq:{{default}}:t:{fn_id}", f"asynq:{{critical}}:t:{task_id}") == 0
        with pytest.raises(asynq.ValidationError):
            enqueue_on_commit(tasks.touch, 1, 2, 3)  # refused at once, not at commit
    info = Inspector(r).get_task_info("default", fn_id)
    assert (info.type, json.loads(info.payload)) == ("native:touch", {"order_id": 5})
    assert Inspector(r).get_task_info("critical", task_id).type == "plain:task"
    with pytest.raises(RuntimeError), transaction.atomic():
        dropped = enqueue_on_commit(tasks.touch, 6)
        raise RuntimeError("roll back")
    assert r.exists(f"asynq:{{default}}:t:{dropped}") == 0


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_enqueue_on_commit_waits_for_the_database_named_by_using(r: redis.Redis) -> None:
    from asynq_django import enqueue_on_commit

    def stored(task_id: str) -> bool:
        return r.exists(f"asynq:{{default}}:t:{task_id}") == 1

    with transaction.atomic(using="other"):
        result = tasks.add.enqueue_on_commit(1, 2, using="other")  # a django.tasks task
        fn_id = enqueue_on_commit(tasks.touch, 5, using="other")  # an @asynq.task function
        with transaction.atomic():  # a transaction on "default" commits in between
            Order.objects.create()
        assert not stored(result.id) and not stored(fn_id)
    assert stored(result.id) and stored(fn_id)

    with transaction.atomic():  # only "default" is in a transaction: "other" sends at once
        now = tasks.add.enqueue_on_commit(3, 4, using="other")
        now_fn = enqueue_on_commit(tasks.touch, 6, using="other")
        assert stored(now.id) and stored(now_fn)

    with pytest.raises(RuntimeError), transaction.atomic(using="other"):
        dropped = tasks.add.enqueue_on_commit(5, 6, using="other")
        dropped_fn = enqueue_on_commit(tasks.touch, 7, using="other")
        raise RuntimeError("roll back")
    assert not stored(dropped.id) and not stored(dropped_fn)


def test_task_functions_enqueue_to_the_asynq_redis_url(r: redis.Redis) -> None:
    other_db = os.environ["ASYNQ_REDIS_URL"].rsplit("/", 1)[0] + "/3"
    with override_settings(ASYNQ={"REDIS_URL": other_db}):
        info = tasks.touch.enqueue(9)
    db3 = redis.Redis.from_url(other_db)
    try:
        assert Inspector(db3).get_task_info("default", info.id).type == "native:touch"
    finally:
        db3.flushdb()
        db3.close()
    assert r.exists(f"asynq:{{default}}:t:{info.id}") == 0


@pytest.mark.django_db(transaction=True)
async def test_task_enqueued_is_sent_once_the_task_is_in_redis(r: redis.Redis) -> None:
    from asgiref.sync import sync_to_async

    from asynq_django.backend import AsynqBackend
    from asynq_django.tasks_api import task_enqueued

    sent: list[tuple[type, str, bool]] = []

    def receiver(sender: type, task_result: Any, **kwargs: Any) -> None:
        in_redis = r.exists(f"asynq:{{default}}:t:{task_result.id}") == 1
        sent.append((sender, task_result.id, in_redis))

    task_enqueued.connect(receiver)
    try:
        now = await sync_to_async(tasks.add.enqueue)(1, 2)
        awaited = await tasks.add.aenqueue(3, 4)

        def in_a_transaction() -> str:
            with transaction.atomic():
                later = tasks.add.enqueue_on_commit(5, 6)
                assert [i for _, i, _ in sent] == [now.id, awaited.id]  # not before the commit
            return str(later.id)

        later_id = await sync_to_async(in_a_transaction)()
    finally:
        task_enqueued.disconnect(receiver)
    assert sent == [(AsynqBackend, i, True) for i in (now.id, awaited.id, later_id)]
