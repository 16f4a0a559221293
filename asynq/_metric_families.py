"""Queue metrics with the names of Go's ``x/metrics`` collector: the one source of their figures.

Every value comes from ``GetQueueInfo`` of each queue, as in Go's ``QueueMetricsCollector``, so
dashboards and alerts written for a Go exporter work unchanged. Two outputs read these families:
the dashboard's ``/metrics`` text (:mod:`asynq.web`) and the ``prometheus_client`` collector
(:mod:`asynq.prometheus`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from asynq._snapshots import QueueInfo

MetricKind = Literal["gauge", "counter"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One series: its label values (in the order of the family's ``label_names``) and value."""

    label_values: tuple[str, ...]
    value: float


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """A metric name with its type, help text, label names and one sample per label set."""

    name: str
    kind: MetricKind
    help: str
    label_names: tuple[str, ...]
    samples: tuple[Sample, ...]


_STATES = ("active", "pending", "scheduled", "retry", "archived", "completed")

_SIZE_FIELDS = (*_STATES, "aggregating")
# (name, kind, help, value, the QueueInfo fields the value is made of) of the per-queue series,
# in Go's order. A series whose fields are unreadable (damaged data) is left out for that queue.
_QUEUE_METRICS: tuple[
    tuple[str, MetricKind, str, Callable[[QueueInfo], float], tuple[str, ...]], ...
] = (
    ("asynq_queue_size", "gauge", "Number of tasks in a queue", lambda q: q.size, _SIZE_FIELDS),
    (
        "asynq_queue_latency_seconds",
        "gauge",
        "Number of seconds the oldest pending task is waiting in pending state to be processed.",
        lambda q: q.latency.total_seconds(),
        ("latency",),
    ),
    (
        "asynq_queue_memory_usage_approx_bytes",
        "gauge",
        "Number of memory used by a given queue (approximated number by sampling).",
        lambda q: q.memory_usage,
        ("memory_usage",),
    ),
    (
        "asynq_tasks_processed_total",
        "counter",
        "Number of tasks processed (both succeeded and failed); broken down by queue",
        lambda q: q.processed_total,
        ("processed_total",),
    ),
    (
        "asynq_tasks_failed_total",
        "counter",
        "Number of tasks failed; broken down by queue",
        lambda q: q.failed_total,
        ("failed_total",),
    ),
    (
        "asynq_queue_paused_total",
        "gauge",
        "Number of queues paused",
        lambda q: int(q.paused),
        ("paused",),
    ),
)


def _readable(info: QueueInfo, fields: tuple[str, ...]) -> bool:
    return not any(f in info.unreadable for f in fields)


def queue_metric_families(infos: Iterable[QueueInfo]) -> list[MetricFamily]:
    """The families for ``infos`` (one ``QueueInfo`` per queue), queues sorted by name.

    Go exports ``asynq_tasks_enqueued_total`` as a gauge despite its ``_total`` suffix; so do we.
    A value named in a queue's ``unreadable`` leaves its series out for that queue, and
    ``asynq_queue_unreadable_values`` (not one of Go's) counts them.
    """
    queues = sorted(infos, key=lambda q: q.queue)
    enqueued = MetricFamily(
        "asynq_tasks_enqueued_total",
        "gauge",
        "Number of tasks enqueued; broken down by queue and state.",
        ("queue", "state"),
        tuple(
            Sample((q.queue, state), getattr(q, state))
            for q in queues
            for state in _STATES
            if state not in q.unreadable
        ),
    )
    per_queue = [
        MetricFamily(
            name,
            kind,
            help_text,
            ("queue",),
            tuple(Sample((q.queue,), value(q)) for q in queues if _readable(q, fields)),
        )
        for name, kind, help_text, value, fields in _QUEUE_METRICS
    ]
    unreadable = MetricFamily(
        "asynq_queue_unreadable_values",
        "gauge",
        "Number of a queue's values that could not be read (damaged data); their series are "
        "left out.",
        ("queue",),
        tuple(Sample((q.queue,), len(q.unreadable)) for q in queues),
    )
    return [enqueued, *per_queue, unreadable]
