"""``asynq.prometheus.AsynqCollector`` in a real ``prometheus_client`` registry over real Redis.

The collector and the dashboard's ``/metrics`` page read one source of metric families; the
test parses both expositions with ``prometheus_client``'s own parser.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import asynq
from asynq.inspector import AsyncInspector, Inspector
from asynq.prometheus import AsynqCollector
from tests.helpers.redis_procs import free_port
from tests.web._seed import Seeded

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def series(text: str) -> Series:
    """``{(sample name, sorted labels): value}`` of an exposition text."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def registry(redis_url: str) -> Iterator[CollectorRegistry]:
    reg = CollectorRegistry()
    collector = AsynqCollector(redis_url)
    reg.register(collector)
    yield reg
    collector.close()


def test_collects_go_asynqs_metrics(registry: CollectorRegistry, seeded: Seeded) -> None:
    got = series(generate_latest(registry).decode())
    default = (("queue", "default"),)
    assert got[("asynq_queue_size", default)] == 7
    for state in ("active", "pending", "scheduled", "retry", "archived", "completed"):
        labels = (("queue", "default"), ("state", state))
        assert got[("asynq_tasks_enqueued_total", labels)] == 1
    assert got[("asynq_tasks_processed_total", default)] == 50
    assert got[("asynq_tasks_failed_total", default)] == 7
    assert got[("asynq_queue_paused_total", default)] == 0
    assert got[("asynq_queue_memory_usage_approx_bytes", default)] > 0
    assert got[("asynq_queue_latency_seconds", default)] >= 0
    text = generate_latest(registry).decode()
    assert "# TYPE asynq_tasks_processed_total counter" in text
    assert "# TYPE asynq_queue_size gauge" in text
    assert "# TYPE asynq_tasks_enqueued_total gauge" in text  # a gauge, as in Go


def test_follows_redis_between_scrapes(
    registry: CollectorRegistry, redis_url: str, r: redis.Redis
) -> None:
    assert series(generate_latest(registry).decode()) == {}  # no queues yet
    with asynq.Client(redis_url) as c:
        for _ in range(3):
            c.enqueue(asynq.Task("t"), queue="critical")
        c.enqueue(asynq.Task("t"), queue='we"ird\\name')
    with Inspector(redis_url) as insp:
        insp.pause_queue("critical")
    got = series(generate_latest(registry).decode())
    assert got[("asynq_queue_size", (("queue", "critical"),))] == 3
    assert got[("asynq_queue_paused_total", (("queue", "critical"),))] == 1
    assert got[("asynq_queue_size", (("queue", 'we"ird\\name'),))] == 1


async def test_same_figures_as_the_dashboard_page(
    registry: CollectorRegistry, web: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await web.get("/metrics")
    from_page = series(page.text)
    from_collector = series(generate_latest(registry).decode())
    # 6 states, Go's 6 per-queue metrics, and asynq_queue_unreadable_values
    assert from_page.keys() == from_collector.keys() and len(from_page) == 6 + 6 + 1
    moving = {k for k in from_page if k[0] == "asynq_queue_latency_seconds"}
    assert {k: v for k, v in from_page.items() if k not in moving} == {
        k: v for k, v in from_collector.items() if k not in moving
    }


def test_registering_does_not_read_redis() -> None:
    collector = AsynqCollector(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    reg = CollectorRegistry()
    reg.register(collector)  # describe() names the metrics without a round trip
    with pytest.raises(asynq.BrokerError):
        generate_latest(reg)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        reg.register(AsynqCollector(f"redis://127.0.0.1:{free_port()}/0"))
    collector.close()


def test_a_given_inspector_stays_open(redis_url: str, seeded: Seeded) -> None:
    with Inspector(redis_url) as insp:
        collector = AsynqCollector(insp)
        reg = CollectorRegistry()
        reg.register(collector)
        assert b'asynq_queue_size{queue="default"} 7.0' in generate_latest(reg)
        collector.close()
        assert insp.queues() == ["default"]


async def test_an_async_inspector_is_refused(redis_url: str) -> None:
    async with AsyncInspector(redis_url) as insp:
        with pytest.raises(asynq.ValidationError, match="blocking Inspector"):
            AsynqCollector(insp)  # type: ignore[arg-type]


def test_without_prometheus_client_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "import asynq\n"
        "try:\n    import asynq.prometheus\n"
        "except asynq.MissingDependencyError as e:\n    print('missing:', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.startswith("missing:"), done.stderr
    assert "pip install 'asynq-python[prometheus]'" in done.stdout
