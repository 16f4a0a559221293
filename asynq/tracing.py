"""Tracing across the queue: W3C trace context (``traceparent``, ``tracestate``) from the code
that enqueues a task to the worker that runs it, through the task's headers.

Nothing to set up beyond OpenTelemetry itself. When the ``opentelemetry`` package has been
imported by the program (so an application that does not trace pays nothing, not even the
import):

- **enqueue** (``Client``, ``AsyncClient``, task functions): inside a recording span, the
  task's headers get that span's ``traceparent`` (and ``tracestate``), unless they already
  carry one;
- **worker server**: a task whose headers carry a ``traceparent`` runs inside a ``CONSUMER``
  span named ``"<task type> process"``, a child of the enqueuing span, with the task's type,
  id, queue and retry count as attributes. Its exception, if it raises, is recorded on the
  span. Tasks without a ``traceparent`` (a Go producer not tracing, an old task) run without
  one.

The headers are W3C's text fields, so a Go service propagating trace context into asynq task
headers joins the same trace, in both directions. Install with the ``otel`` extra
(``pip install 'asynq-python[otel]'``) plus an OpenTelemetry SDK and exporter of your choice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

__all__ = ["TRACE_HEADERS", "enabled", "task_span", "trace_headers"]

#: The W3C trace-context fields carried in task headers.
TRACE_HEADERS = ("traceparent", "tracestate")


def enabled() -> bool:
    """Whether OpenTelemetry is in use in this process (its package has been imported)."""
    return "opentelemetry" in sys.modules


@cache
def _trace_api() -> Any:
    """OpenTelemetry's ``trace`` module, looked up once: an import statement on every enqueue
    cost more than the check for a span that follows it."""
    from opentelemetry import trace

    return trace


@cache
def _propagate_api() -> Any:
    """OpenTelemetry's ``propagate`` module, imported on the first enqueue inside a span: its
    import loads the configured propagators (about 12 ms), which a process that has
    OpenTelemetry installed but does not trace never needs."""
    from opentelemetry import propagate

    return propagate


def trace_headers() -> dict[str, str]:
    """The current span's ``traceparent``/``tracestate``; empty without OpenTelemetry or
    outside a valid span."""
    if not enabled():
        return {}
    # Importing redis-py (8.x) imports OpenTelemetry when it is installed, so most enqueues run
    # outside any span: this check costs a fifth of a propagator's inject, on every enqueue.
    if not _trace_api().get_current_span().get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _propagate_api().inject(carrier)
    return {name: carrier[name] for name in TRACE_HEADERS if name in carrier}


def with_trace_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` plus the current trace context, unless they carry one already (a task
    re-enqueued, or a caller that set its own)."""
    if "traceparent" in headers:
        return headers
    trace = trace_headers()
    return {**headers, **trace} if trace else headers


def traced(headers: Mapping[str, str]) -> bool:
    """Whether a task with these headers should run inside a span."""
    return "traceparent" in headers and enabled()


@contextmanager
def task_span(task: Any) -> Iterator[None]:
    """Run the block inside the worker-side span of ``task`` (an :class:`~asynq.ActiveTask`),
    continuing the trace its ``traceparent`` header names.

    The worker server enters it by itself for every task carrying a ``traceparent``; call it
    only to trace some other way of running a task.
    """
    from opentelemetry import propagate, trace

    parent = propagate.extract(dict(task.headers))
    tracer = trace.get_tracer("asynq")
    attributes = {
        "messaging.system": "asynq",
        "messaging.operation": "process",
        "messaging.destination.name": task.queue,
        "messaging.message.id": task.id,
        "asynq.task.type": task.type,
        "asynq.task.retry_count": task.retry_count,
        "asynq.task.max_retry": task.max_retry,
    }
    with tracer.start_as_current_span(
        f"{task.type} process", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ):
        yield
