"""Queue metrics for an existing ``prometheus_client`` registry: :class:`AsynqCollector`.

For applications that already expose Prometheus metrics (django-prometheus, a FastAPI
instrumentator, ``prometheus_client.start_http_server``): register the collector and every
scrape reads each queue's ``GetQueueInfo``, exported under the names of Go's ``x/metrics``
collector (``asynq_queue_size``, ``asynq_tasks_processed_total``, ...). The figures are the
same families the dashboard's ``/metrics`` page renders.

::

    from prometheus_client import REGISTRY
    from asynq.prometheus import AsynqCollector

    REGISTRY.register(AsynqCollector("redis://localhost:6379/0"))

Needs the ``prometheus`` extra: ``pip install 'asynq-python[prometheus]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from asynq._metric_families import MetricFamily, queue_metric_families
from asynq._snapshots import QueueInfo
from asynq.connection import RedisLike
from asynq.errors import (
    BrokerError,
    MissingDependencyError,
    QueueNotFoundError,
    ValidationError,
    is_damaged_data,
)
from asynq.inspector import AsyncInspector, Inspector

try:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError as exc:
    raise MissingDependencyError(
        f"asynq.prometheus needs the 'prometheus' extra ({exc.name} is missing): "
        "pip install 'asynq-python[prometheus]'"
    ) from exc


_log = logging.getLogger("asynq.prometheus")


class AsynqCollector(Collector):
    """A ``prometheus_client`` collector of every queue's metrics, read at scrape time.

    ``prometheus_client`` calls :meth:`collect` synchronously on each scrape, so the collector
    reads through a blocking :class:`~asynq.Inspector`.

    Args:
        inspector_or_redis: An :class:`~asynq.Inspector` (the caller keeps ownership), or
            anything it accepts (Redis URL, ``RedisConnection``, ``redis.Redis``; ``None`` for
            ``$ASYNQ_REDIS_URL``), from which the collector opens its own; :meth:`close` closes
            that one.

    Raises:
        ValidationError: given an ``AsyncInspector`` (scrapes are synchronous).
    """

    def __init__(self, inspector_or_redis: Inspector | RedisLike | None = None) -> None:
        if isinstance(inspector_or_redis, AsyncInspector):
            raise ValidationError(
                "AsynqCollector needs a blocking Inspector (or a Redis URL): "
                "prometheus_client collects synchronously"
            )
        self._owned = not isinstance(inspector_or_redis, Inspector)
        self._inspector = (
            inspector_or_redis
            if isinstance(inspector_or_redis, Inspector)
            else Inspector(inspector_or_redis)
        )

    def describe(self) -> Iterator[Metric]:
        """The metric names without values, so registering does not read Redis."""
        return (_to_prometheus(family) for family in queue_metric_families([]))

    def collect(self) -> Iterator[Metric]:
        """Every queue's current figures.

        Queues deleted during the scrape are skipped, and so is a queue Redis cannot answer
        for (damaged data, logged); an unreadable value leaves out just its series.
        """
        return (_to_prometheus(family) for family in queue_metric_families(self._queue_infos()))

    def _queue_infos(self) -> list[QueueInfo]:
        infos = []
        for queue in self._inspector.queues():
            try:
                infos.append(self._inspector.get_queue_info(queue))
            except QueueNotFoundError:
                continue
            except BrokerError as exc:
                if not is_damaged_data(exc):
                    raise
                # One damaged queue must not fail the scrape of the others.
                _log.warning("asynq metrics: skipping queue %r: %s", queue, exc)
        return infos

    def close(self) -> None:
        """Close the inspector if the collector opened it."""
        if self._owned:
            self._inspector.close()


def _to_prometheus(family: MetricFamily) -> Metric:
    make = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
    metric = make(family.name, family.help, labels=list(family.label_names))
    for sample in family.samples:
        metric.add_metric(list(sample.label_values), sample.value)
    return metric


__all__ = ["AsynqCollector"]
