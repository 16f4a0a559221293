"""Trace context from an HTTP request, through the task's headers, into a real worker: the
task's span is a child of the request's, with the task's attributes; recorded with the
OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import asynq
from asynq_fastapi import asynq_lifespan
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST, start_server

__all__ = ["start_server"]  # a fixture

EXPORTER = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)
tracer = trace.get_tracer("tests")

fns = asynq.TaskRegistry()
seen_in_task: list[str] = []


@fns.task("trace:work")
async def work(n: int) -> None:
    seen_in_task.append(format(trace.get_current_span().get_span_context().span_id, "016x"))
    if n < 0:
        raise ValueError("negative")


@pytest.fixture(autouse=True)
def _fresh() -> None:
    EXPORTER.clear()
    seen_in_task.clear()


def spans(name: str) -> list[ReadableSpan]:
    return [s for s in EXPORTER.get_finished_spans() if s.name == name]


def traced_app(redis_url: str) -> FastAPI:
    app = FastAPI(lifespan=asynq_lifespan(redis_url, worker=True, tasks=fns, worker_config=FAST))

    # FastAPI traces its requests itself once OpenTelemetry is set up: a SERVER span
    # continuing the caller's traceparent, and spans inside it around the endpoint.
    @app.post("/work/{n}")
    async def post_work(n: int) -> dict[str, str]:
        info = await work.aenqueue(n)
        return {
            "id": info.id,
            "traceparent": info.headers.get("traceparent", ""),
            "tracestate": info.headers.get("tracestate", ""),
        }

    return app


def ancestors(span: ReadableSpan) -> list[ReadableSpan | int]:
    """The spans above ``span``, nearest first; the remote parent at the top as its id."""
    by_id = {s.context.span_id: s for s in EXPORTER.get_finished_spans()}
    chain: list[ReadableSpan | int] = []
    parent = span.parent
    while parent is not None:
        above = by_id.get(parent.span_id)
        if above is None:
            chain.append(parent.span_id)
            break
        chain.append(above)
        parent = above.parent
    return chain


def test_the_task_span_continues_the_request_trace(redis_url: str) -> None:
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with TestClient(traced_app(redis_url)) as http:
        incoming = f"00-{caller_trace}-{caller_span}-01"
        answer = http.post(
            "/work/3", headers={"traceparent": incoming, "tracestate": "vendor=abc,other=1"}
        ).json()
        asyncio.run(wait_until(lambda: spans("trace:work process")))
    [task] = spans("trace:work process")
    assert format(task.context.trace_id, "032x") == caller_trace  # one trace, end to end
    # Its parent is the span the route enqueued from, which the task's header names...
    assert task.parent is not None
    assert answer["traceparent"] == f"00-{caller_trace}-{task.parent.span_id:016x}-01"
    assert answer["tracestate"] == "vendor=abc,other=1"  # the caller's vendor state travels
    assert dict(task.context.trace_state) == {"vendor": "abc", "other": "1"}
    # ...inside the request's SERVER span, inside the caller's span.
    chain = ancestors(task)
    assert chain[-1] == int(caller_span, 16)
    assert any(isinstance(s, ReadableSpan) and s.kind == trace.SpanKind.SERVER for s in chain)
    assert task.kind == trace.SpanKind.CONSUMER
    assert dict(task.attributes or {}) == {
        "messaging.system": "asynq",
        "messaging.operation": "process",
        "messaging.destination.name": "default",
        "messaging.message.id": answer["id"],
        "asynq.task.type": "trace:work",
        "asynq.task.retry_count": 0,
        "asynq.task.max_retry": 25,
    }
    assert seen_in_task == [f"{task.context.span_id:016x}"]  # the handler runs inside it


def test_a_failing_task_records_its_error_on_the_span(redis_url: str) -> None:
    with TestClient(traced_app(redis_url)) as http:
        http.post("/work/-1")
        asyncio.run(wait_until(lambda: spans("trace:work process")))
    [task] = spans("trace:work process")
    assert task.status.status_code == trace.StatusCode.ERROR
    assert [e.name for e in task.events] == ["exception"]
    assert (task.events[0].attributes or {})["exception.message"] == "negative"


async def test_the_core_alone_traces_without_fastapi(redis_url: str, start_server: Any) -> None:
    """A plain Client and Server (as Django and Flask use them): the same header and span."""
    await start_server(fns)
    with tracer.start_as_current_span("producer") as producer:
        async with asynq.AsyncClient(redis_url) as client:
            info = await work.using(client=client).aenqueue(4)
    await wait_until(lambda: spans("trace:work process"))
    [task] = spans("trace:work process")
    assert task.parent is not None
    assert task.parent.span_id == producer.get_span_context().span_id
    assert task.context.trace_id == producer.get_span_context().trace_id
    assert (task.attributes or {})["messaging.message.id"] == info.id
    assert seen_in_task == [f"{task.context.span_id:016x}"]


def test_no_span_no_trace_headers(redis_url: str) -> None:
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task("trace:plain"))
    assert "traceparent" not in info.headers


def test_a_producer_that_does_not_trace_never_loads_the_propagators(redis_url: str) -> None:
    """OpenTelemetry imported (redis-py 8 imports it when installed) but no span: enqueueing
    never imports ``opentelemetry.propagate``, whose import loads every configured propagator."""
    script = (
        "import sys, opentelemetry.trace, asynq\n"
        f"with asynq.Client({redis_url!r}) as client:\n"
        "    client.enqueue(asynq.Task('trace:plain'))\n"
        "print('opentelemetry.propagate' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_every_task_of_a_batch_gets_the_context_but_keeps_its_own(redis_url: str) -> None:
    own = "00-11111111111111111111111111111111-2222222222222222-01"
    with asynq.Client(redis_url) as client, tracer.start_as_current_span("batch") as span:
        infos = client.enqueue_many(
            [asynq.Task("trace:a"), asynq.Task("trace:b", headers={"traceparent": own})]
        )
        single = client.enqueue(asynq.Task("trace:c", headers={"k": "v"}))
    ctx = span.get_span_context()
    mine = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"
    assert [i.headers.get("traceparent") for i in infos] == [mine, own]
    assert single.headers == {"k": "v", "traceparent": mine}


def test_a_task_without_trace_context_runs_untraced(redis_url: str) -> None:
    with TestClient(traced_app(redis_url)):
        with asynq.Client(redis_url) as client:  # outside any span, as a Go producer may be
            info = client.enqueue(work.task(5))
        assert "traceparent" not in info.headers
        asyncio.run(wait_until(lambda: seen_in_task))
    assert spans("trace:work process") == []
    assert seen_in_task == ["0000000000000000"]  # no span was started around the handler


# -- a Go asynq service on either side ------------------------------------------------------


@pytest.mark.interop
def test_a_go_producers_traceparent_is_continued_by_the_worker(redis_url: str) -> None:
    from tests.server.gohelpers import go_enqueue

    go_trace, go_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    with TestClient(traced_app(redis_url)):
        # What a Go service writes when it puts its span's context into the task's headers.
        go_enqueue(
            redis_url,
            [
                {
                    "type": "trace:work",
                    "payload": b'{"n":1}',
                    "headers": {"traceparent": f"00-{go_trace}-{go_span}-01"},
                }
            ],
        )
        asyncio.run(wait_until(lambda: spans("trace:work process")))
    [task] = spans("trace:work process")
    assert format(task.context.trace_id, "032x") == go_trace
    assert task.parent is not None and format(task.parent.span_id, "016x") == go_span
    assert task.parent.is_remote


@pytest.mark.interop
def test_a_go_server_reads_the_requests_trace_from_the_task(redis_url: str) -> None:
    from tests.helpers import gopeer
    from tests.server.gohelpers import addr, go_events

    caller_trace = "5bf92f3577b34da6a3ce929d0e0e4737"
    app = FastAPI(lifespan=asynq_lifespan(redis_url))  # no Python worker: Go serves "go"

    @app.post("/to-go")
    async def to_go() -> dict[str, str]:
        info = await work.using(queue="go").aenqueue(2)
        return {
            "id": info.id,
            "span": format(trace.get_current_span().get_span_context().span_id, "016x"),
        }

    go = gopeer.start_go("peer_server", "-redis", addr(redis_url), "-queues", "go=1")
    try:
        asyncio.run(wait_until(lambda: go_events(go, "started"), within=30))
        with TestClient(app) as http:
            sent = http.post(
                "/to-go", headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b8-01"}
            ).json()
        [processed] = asyncio.run(wait_until(lambda: go_events(go, "processed"), within=30))
    finally:
        go.stop()
    assert processed["id"] == sent["id"]
    # The Go handler finds the request's trace, and the route's span as the parent to use.
    assert processed["headers"] == {"traceparent": f"00-{caller_trace}-{sent['span']}-01"}
