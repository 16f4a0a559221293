"""The Django adapter on a 3-master Redis Cluster: what the app enqueues (at once and at commit),
``manage.py asynq_worker --burst`` as a real subprocess, results, the commands, the stats
endpoint and the admin, all through ``ASYNQ``'s cluster settings.

The queues are chosen so that their keys live on all three masters: ``emails`` on the first,
``default`` and ``critical`` on the second, ``low`` on the third.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client, override_settings

from asynq import Inspector
from asynq_django.testing import run_burst_worker
from tests.helpers.redis_procs import RedisClusterProcs
from tests_django.conftest import check_scheduler_enqueues, manage, running, stop, wait_for
from tests_django.shop import tasks
from tests_django.shop.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

QUEUES = ("emails", "default", "critical", "low")
WORKER_QUEUES = ("-q", "critical=6", "-q", "default=3", "-q", "low,emails")


@pytest.fixture
def inspector(on_cluster: RedisClusterProcs) -> Iterator[Inspector]:
    """An inspector of the cluster that the test's ``ASYNQ`` points at."""
    with Inspector(on_cluster.url) as cluster_inspector:
        yield cluster_inspector


def test_the_queues_span_every_master(on_cluster: RedisClusterProcs, inspector: Inspector) -> None:
    masters = {inspector.cluster_nodes(q)[0].addr for q in QUEUES}
    assert masters == {f"{host}:{port}" for host, port in on_cluster.addrs}


def test_a_burst_worker_drains_the_cluster_into_the_database(
    inspector: Inspector, r: redis.Redis
) -> None:
    orders = [Order.objects.create() for _ in range(6)]
    paid = tasks.mark_paid.enqueue(orders[0].pk)  # a django.tasks task
    shipped = tasks.ship.enqueue(orders[1].pk)  # an async one, in "critical"
    failed = tasks.explode.enqueue("boom")
    tasks.touch.using(queue="low").enqueue(orders[2].pk)  # an @asynq.task function
    with transaction.atomic():
        committed = tasks.mark_paid.enqueue_on_commit(orders[3].pk)
        tasks.touch.using(queue="emails").enqueue_on_commit(orders[4].pk)
        assert inspector.get_queue_info("default").pending == 2  # not yet
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.touch.using(queue="emails").enqueue_on_commit(orders[5].pk)
        raise RuntimeError("roll back")
    assert tasks.mark_paid.get_result(committed.id).status == "READY"

    done = manage("asynq_worker", "--burst", *WORKER_QUEUES)
    assert done.returncode == 0, done.stderr

    statuses = [Order.objects.get(pk=order.pk).status for order in orders]
    assert statuses == ["paid", "shipped", "touched", "paid", "touched", "new"]
    for result, value in [(paid, "paid"), (shipped, "shipped"), (committed, "paid")]:
        fetched = result.task.get_result(result.id)
        assert fetched.status == "SUCCESSFUL"
        assert fetched.return_value == value
        assert len(fetched.worker_ids) == 1
    exploded = tasks.explode.get_result(failed.id)
    assert exploded.status == "FAILED"
    assert exploded.errors[0].exception_class is ValueError
    assert "ValueError: boom" in exploded.errors[0].traceback
    processed = {q: inspector.get_queue_info(q).processed for q in QUEUES}
    assert processed == {"emails": 1, "default": 3, "critical": 1, "low": 1}
    assert r.dbsize() == 0  # the standalone server of the other tests saw nothing


def test_forked_worker_processes_serve_the_cluster(inspector: Inspector) -> None:
    results = [tasks.add.enqueue(n, n) for n in range(6)]
    with running("asynq_worker", "--processes", "2", "-c", "2") as supervisor:
        wait_for(lambda: len(inspector.servers()) == 2)
        wait_for(lambda: inspector.get_queue_info("default").completed == 6)
        out = stop(supervisor, signal.SIGTERM)
    assert supervisor.returncode == 0, out
    sums = [tasks.add.get_result(result.id).return_value for result in results]
    assert sums == [{"sum": 2 * n} for n in range(6)]
    assert inspector.servers() == []


async def test_async_enqueue_and_results_on_the_cluster(inspector: Inspector) -> None:
    enqueued = await tasks.add.aenqueue(2, 3)
    assert (await tasks.add.aget_result(enqueued.id)).status == "READY"
    touched = await tasks.touch.using(queue="low").aenqueue(0)
    assert inspector.get_task_info("default", enqueued.id).type == "tests_django.shop.tasks.add"
    assert inspector.get_task_info("low", touched.id).type == "native:touch"


def test_stats_pause_and_unpause_on_the_cluster(inspector: Inspector) -> None:
    tasks.add.enqueue(1, 2)
    tasks.add.enqueue(3, 4)
    tasks.add.using(queue_name="critical").enqueue(5, 6)
    tasks.touch.using(queue="low").enqueue(0)
    data = json.loads(manage("asynq_stats", "--json").stdout)
    assert {q["queue"]: q["pending"] for q in data["queues"]} == {
        "critical": 1,
        "default": 2,
        "low": 1,
    }
    assert data["totals"]["pending"] == 4

    paused = manage("asynq_pause", "default", "low")
    assert paused.returncode == 0, paused.stderr
    assert [inspector.get_queue_info(q).paused for q in ("default", "low", "critical")] == [
        True,
        True,
        False,
    ]
    table = manage("asynq_stats").stdout
    assert [row.split()[:2] for row in table.splitlines()[1:]] == [
        ["critical", "1"],
        ["default", "(paused)"],
        ["low", "(paused)"],
    ]
    done = manage("asynq_worker", "--burst", *WORKER_QUEUES)  # paused queues stay untouched
    assert done.returncode == 0, done.stderr
    pending = {q: inspector.get_queue_info(q).pending for q in ("default", "low", "critical")}
    assert pending == {"default": 2, "low": 1, "critical": 0}

    unpaused = manage("asynq_unpause", "default", "low")
    assert unpaused.returncode == 0, unpaused.stderr
    assert not inspector.get_queue_info("default").paused
    assert not inspector.get_queue_info("low").paused


def test_the_scheduler_enqueues_on_the_cluster(inspector: Inspector) -> None:
    check_scheduler_enqueues(inspector)


def test_the_admin_and_stats_json_load_with_cluster_settings(
    on_cluster: RedisClusterProcs,
) -> None:
    tasks.add.enqueue(1, 2)
    tasks.touch.using(queue="low").enqueue(0)
    admin = Client()
    admin.force_login(User.objects.create_superuser("admin", password="pw"))
    index = admin.get("/admin/")
    assert index.status_code == 200
    assert "/admin/asynq_django/" in index.content.decode()

    for client, headers in [
        (admin, {}),
        (Client(), {"HTTP_AUTHORIZATION": "Bearer s3cret-token"}),
    ]:
        stats = client.get("/asynq/stats.json", **headers)
        assert stats.status_code == 200
        data = json.loads(stats.content)
        assert {q["queue"]: q["pending"] for q in data["queues"]} == {"default": 1, "low": 1}
    metrics = Client().get("/asynq/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert metrics.status_code == 200
    text = metrics.content.decode()
    assert 'asynq_queue_size{queue="default"} 1' in text
    assert 'asynq_queue_size{queue="low"} 1' in text


def test_the_cluster_setting_turns_a_redis_url_into_cluster_seeds(
    on_cluster: RedisClusterProcs, inspector: Inspector
) -> None:
    # ASYNQ["CLUSTER"] with a plain redis:// URL naming one node: the rest are discovered.
    host, port = on_cluster.addrs[2]
    asynq = {**settings.ASYNQ, "REDIS_URL": f"redis://{host}:{port}/0", "CLUSTER": True}
    with override_settings(ASYNQ=asynq):
        paid_order, touched_order = Order.objects.create(), Order.objects.create()
        paid = tasks.mark_paid.enqueue(paid_order.pk)
        tasks.touch.using(queue="emails").enqueue(touched_order.pk)  # on another master
        run_burst_worker({"default": 1, "emails": 1})
        assert tasks.mark_paid.get_result(paid.id).status == "SUCCESSFUL"
    assert Order.objects.get(pk=touched_order.pk).status == "touched"
    assert inspector.get_queue_info("emails").processed == 1


def test_the_deploy_check_reaches_the_cluster(on_cluster: RedisClusterProcs) -> None:
    checked = manage("check", "--deploy", "--tag", "asynq")
    assert checked.returncode == 0, checked.stderr
    assert "asynq.E010" not in checked.stderr
