"""ASYNQ reaches Redis over TLS and through Sentinel, as its REDIS_URL and REDIS_OPTIONS say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from django.test import override_settings

from asynq import Inspector
from asynq_django.tasks_api import TaskResultStatus
from tests.client.servers import SentinelRedis, TlsRedis
from tests_django.shop import tasks


@pytest.fixture(scope="module")
def tls_redis() -> Iterator[TlsRedis]:
    server = TlsRedis()
    yield server
    server.stop()


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
