"""`manage.py asynq_worker` imports every installed app's ``tasks`` module before it serves, so
task types that no module path names (an ``@asynq.task`` type, a Django task's ``type=``) are
found. A Django task whose type is its module path would import its module by itself, so these
tests enqueue only the other kind."""

from __future__ import annotations

import pytest
import redis

from asynq import Client, Inspector, Task
from tests_django.conftest import manage
from tests_django.shop.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def enqueue_named_types(r: redis.Redis, order: Order) -> None:
    client = Client(r)
    client.enqueue(Task.from_json("native:touch", {"order_id": order.pk}))  # @asynq.task
    client.enqueue(Task.from_json("email:send", {"args": ["ada@example.com"]}))  # @task(type=)
    client.close()


def test_the_worker_finds_the_tasks_modules_of_installed_apps(r: redis.Redis) -> None:
    order = Order.objects.create()
    enqueue_named_types(r, order)
    done = manage("asynq_worker", "--burst")
    assert done.returncode == 0, done.stderr
    assert Order.objects.get(pk=order.pk).status == "touched"
    assert Order.objects.filter(status="emailed", note="ada@example.com").count() == 1
    assert Inspector(r).get_queue_info("default").processed == 2


def test_without_autodiscovery_those_types_have_no_handler(r: redis.Redis) -> None:
    order = Order.objects.create()
    enqueue_named_types(r, order)
    done = manage("asynq_worker", "--burst", "--no-autodiscover")
    assert done.returncode == 0, done.stderr
    assert Order.objects.get(pk=order.pk).status == "new"
    assert not Order.objects.filter(status="emailed").exists()
    retried = Inspector(r).list_retry_tasks("default")
    assert sorted(t.type for t in retried) == ["email:send", "native:touch"]
    assert all("handler" in t.last_err.lower() for t in retried), [t.last_err for t in retried]
