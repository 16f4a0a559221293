"""ASYNQ reaches Redis over TLS, a Redis Cluster over TLS, and Redis through Sentinel (for the
app and for a ``manage.py asynq_worker`` subprocess), as its REDIS_URL, CLUSTER and
REDIS_OPTIONS say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from asynq import Inspector
from asynq_django import conf
from asynq_django.tasks_api import TaskResultStatus
from asynq_django.testing import run_burst_worker
from tests.client.servers import SentinelRedis, TlsRedis, TlsRedisCluster
from tests_django.conftest import manage
from tests_django.shop import tasks
from tests_django.shop.models import Order


@pytest.fixture(scope="module")
def tls_redis() -> Iterator[TlsRedis]:
    server = TlsRedis()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[TlsRedisCluster]:
    cluster = TlsRedisCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def sentinel_redis() -> Iterator[SentinelRedis]:
    server = SentinelRedis()
    yield server
    server.stop()


def test_tls_with_a_ca_from_redis_options(tls_redis: TlsRedis) -> None:
    asynq = {
        "REDIS_URL": f"rediss://127.0.0.1:{tls_redis.tls_port}/0",
        "REDIS_OPTIONS": {"ssl_ca_certs": tls_redis.ca},
    }
    with override_settings(ASYNQ=asynq):
        result = tasks.add.enqueue(1, 2)  # a django.tasks task
        assert tasks.add.get_result(result.id).status == TaskResultStatus.READY
        info = tasks.touch.enqueue(7)  # an @asynq.task function, through asynq's default client
    plain = redis.Redis(port=tls_redis.proc.port)
    try:
        inspector = Inspector(plain)
        assert inspector.get_task_info("default", result.id).type.endswith(".add")
        assert inspector.get_task_info("default", info.id).type == "native:touch"
    finally:
        plain.flushdb()
        plain.close()


def test_sentinel_finds_the_master(sentinel_redis: SentinelRedis) -> None:
    url = f"redis-sentinel://127.0.0.1:{sentinel_redis.port}/0?master=mymaster"
    with override_settings(ASYNQ={"REDIS_URL": url}):
        info = tasks.touch.enqueue(8)
    master = redis.Redis(port=sentinel_redis.master.port)
    try:
        assert Inspector(master).get_task_info("default", info.id).type == "native:touch"
    finally:
        master.flushdb()
        master.close()


@pytest.mark.django_db(transaction=True)
def test_a_worker_subprocess_through_sentinel_drains_into_the_database(
    sentinel_redis: SentinelRedis, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"redis-sentinel://127.0.0.1:{sentinel_redis.port}/0?master=mymaster"
    # REDIS_URL falls back to $ASYNQ_REDIS_URL, here and in the manage.py subprocess.
    monkeypatch.setenv("ASYNQ_REDIS_URL", url)
    conf.reload()
    master = redis.Redis(port=sentinel_redis.master.port)
    try:
        orders = [Order.objects.create() for _ in range(2)]
        paid = tasks.mark_paid.enqueue(orders[0].pk)  # a django.tasks task
        tasks.touch.using(queue="critical").enqueue(orders[1].pk)  # an @asynq.task function

        done = manage("asynq_worker", "--burst")
        assert done.returncode == 0, done.stderr

        assert [Order.objects.get(pk=o.pk).status for o in orders] == ["paid", "touched"]
        assert tasks.mark_paid.get_result(paid.id).return_value == "paid"
        with Inspector(master) as inspector:  # the work went through the Sentinel's master
            processed = {q: inspector.get_queue_info(q).processed for q in ("default", "critical")}
        assert processed == {"default": 1, "critical": 1}
        assert r.dbsize() == 0  # the standalone server of the other tests saw nothing
    finally:
        master.flushdb()
        master.close()
        monkeypatch.undo()
        conf.reload()


@pytest.mark.django_db(transaction=True)
def test_a_cluster_over_tls(tls_cluster: TlsRedisCluster) -> None:
    asynq = {
        **settings.ASYNQ,
        "REDIS_URL": f"rediss://127.0.0.1:{tls_cluster.tls_ports[0]}",
        "CLUSTER": True,
        "REDIS_OPTIONS": {"ssl_ca_certs": tls_cluster.ca},
    }
    with override_settings(ASYNQ=asynq):
        result = tasks.add.enqueue(1, 2)  # in "default", on the second master
        tasks.touch.using(queue="low").enqueue(7)  # on the third
        run_burst_worker({"default": 1, "low": 1})
        assert tasks.add.get_result(result.id).return_value == {"sum": 3}
    # The same cluster through the nodes' plain ports: the work was done there.
    with Inspector(tls_cluster.procs.url) as inspector:
        assert inspector.get_task_info("default", result.id).state == "completed"
        assert inspector.get_queue_info("low").processed == 1
        assert inspector.list_pending_tasks("low") == []
