"""Prometheus text exposition of queue metrics, with the names of Go's ``x/metrics`` collector.

Every value comes from ``GetQueueInfo`` of each queue, as in Go's ``QueueMetricsCollector``, so
dashboards and alerts written for a Go exporter work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from asynq._snapshots import QueueInfo

#: ``Content-Type`` of the text format, version 0.0.4.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_STATES = ("active", "pending", "scheduled", "retry", "archived", "completed")

# (name, type, help, value) for the per-queue series, in Go's order.
_QUEUE_METRICS: tuple[tuple[str, str, str, Callable[[QueueInfo], float]], ...] = (
    ("asynq_queue_size", "gauge", "Number of tasks in a queue", lambda q: q.size),
    (
        "asynq_queue_latency_seconds",
        "gauge",
        "Number of seconds the oldest pending task is waiting in pending state to be processed.",
        lambda q: q.latency.total_seconds(),
    ),
    (
        "asynq_queue_memory_usage_approx_bytes",
        "gauge",
        "Number of memory used by a given queue (approximated number by sampling).",
        lambda q: q.memory_usage,
    ),
    (
        "asynq_tasks_processed_total",
        "counter",
        "Number of tasks processed (both succeeded and failed); broken down by queue",
        lambda q: q.processed_total,
    ),
    (
        "asynq_tasks_failed_total",
        "counter",
        "Number of tasks failed; broken down by queue",
        lambda q: q.failed_total,
    ),
    ("asynq_queue_paused_total", "gauge", "Number of queues paused", lambda q: int(q.paused)),
)


def escape_label(value: str) -> str:
    """Escape a label value: backslash, double quote and newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(infos: Iterable[QueueInfo]) -> str:
    """The exposition text for ``infos`` (one ``QueueInfo`` per queue)."""
    infos = sorted(infos, key=lambda q: q.queue)
    lines = [
        "# HELP asynq_tasks_enqueued_total "
        "Number of tasks enqueued; broken down by queue and state.",
        "# TYPE asynq_tasks_enqueued_total gauge",
    ]
    for q in infos:
        for state in _STATES:
            lines.append(
                f'asynq_tasks_enqueued_total{{queue="{escape_label(q.queue)}",state="{state}"}} '
                f"{_number(getattr(q, state))}"
            )
    for name, kind, help_text, value in _QUEUE_METRICS:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for q in infos:
            lines.append(f'{name}{{queue="{escape_label(q.queue)}"}} {_number(value(q))}')
    return "\n".join(lines) + "\n"
