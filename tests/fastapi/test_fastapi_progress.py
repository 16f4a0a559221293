"""Live progress over Server-Sent Events from a real uvicorn: a handler's reports reach the
stream as it makes them (each one before the handler may go on), the stream ends with the
task's final state, an unknown task is 404, a task or queue deleted meanwhile ends the stream
with "gone" and no error logged, and a client hanging up frees the connection (from
task_events and from the dashboard router's own stream)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI, Request
from starlette.responses import StreamingResponse

import asynq
from asynq_fastapi import asynq_lifespan, task_events
from tests.server.conftest import FAST
from tests.web.test_browser import _serve, _stop

fns = asynq.TaskRegistry()
gates: dict[str, list[threading.Event]] = {}


def gate(key: str, step: int) -> threading.Event:
    return gates.setdefault(key, [threading.Event() for _ in range(4)])[step]


@fns.task("progress:steps", retention=3600)
async def steps(key: str) -> str:
    task = asynq.current_task()
    for step in (1, 2, 3):
        await asyncio.to_thread(gate(key, step).wait, 20)
        await task.report_progress_async(step, 3, message=f"step {step} of 3")
    return "done"


@fns.task("progress:sync", retention=3600)
def sync_steps(key: str) -> None:
    for step in (1, 2):
        gate(key, step).wait(20)
        asynq.current_task().report_progress(step * 50, 100)


def progress_app(redis_url: str) -> FastAPI:
    app = FastAPI(lifespan=asynq_lifespan(redis_url, worker=True, tasks=fns, worker_config=FAST))

    @app.post("/jobs/{kind}/{key}")
    async def start(kind: str, key: str) -> dict[str, str]:
        fn = steps if kind == "async" else sync_steps
        return {"id": (await fn.aenqueue(key)).id}

    @app.get("/jobs/{task_id}/events")
    async def events(request: Request, task_id: str) -> StreamingResponse:
        return await task_events(request, "default", task_id, check_interval=0.2)

    return app


@pytest.fixture
def served(redis_url: str) -> Iterator[str]:
    gates.clear()
    running = _serve(progress_app(redis_url))
    yield running.url
    for events in gates.values():
        for event in events:
            event.set()  # let a handler still waiting finish before the server stops
    _stop(running)


def sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs from the lines of a text/event-stream."""
    name = "message"
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))
            name = "message"


@pytest.mark.parametrize(("kind", "reports"), [("async", 3), ("sync", 2)])
def test_reports_stream_as_they_are_made(served: str, kind: str, reports: int) -> None:
    key = f"{kind}-run"
    task_id = httpx.post(f"{served}/jobs/{kind}/{key}").json()["id"]
    seen: list[tuple[str, dict[str, Any]]] = []
    with httpx.stream("GET", f"{served}/jobs/{task_id}/events", timeout=20) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for name, data in sse(answer.iter_lines()):
            seen.append((name, data))
            progress = data["progress"]
            done_steps = 0 if progress is None else round(progress["fraction"] * reports)
            if done_steps < reports:
                gate(key, done_steps + 1).set()  # the next step only once this one was seen
            if name == "end":
                break
    reported = [d["progress"] for _, d in seen if d["progress"] is not None]
    fractions = [p["fraction"] for p in reported]
    assert fractions == sorted(fractions)  # in order (a change of state repeats the latest)
    # Every report arrived while the handler waited for it to be seen.
    assert sorted(set(fractions)) == [step / reports for step in range(1, reports + 1)]
    assert seen[-1][0] == "end"
    assert seen[-1][1]["state"] == "completed"
    assert seen[-1][1]["final"] is True
    assert all(name == "update" for name, _ in seen[:-1])
    if kind == "async":
        assert reported[-1] == {"done": 3, "total": 3, "message": "step 3 of 3", "fraction": 1.0}


def test_an_unknown_task_is_404(served: str) -> None:
    assert httpx.get(f"{served}/jobs/nope/events").status_code == 404


def blocked_readers(r: redis.Redis) -> list[dict[str, Any]]:
    """Connections blocked in XREAD right now (flag ``b``), not idle ones whose last command
    was an XREAD that returned."""
    return [c for c in r.client_list() if c.get("cmd") == "xread" and "b" in c.get("flags", "")]


def hang_up_after_the_first_event(url: str, r: redis.Redis, **headers: str) -> None:
    """Open the stream, wait until it blocks in XREAD for the next report, hang up, and check
    that the read ends (its connection goes back to the pool)."""
    with httpx.stream("GET", url, headers=headers, timeout=20) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = sse(answer.iter_lines())  # kept: dropping it would close the response
        name, data = next(events)
        assert name == "update" and data["final"] is False
        deadline = time.monotonic() + 10
        while not blocked_readers(r):  # the stream waits in XREAD for the next report
            assert time.monotonic() < deadline, "no reader blocked on the progress stream"
            time.sleep(0.05)
        events.close()
    deadline = time.monotonic() + 10
    while blocked_readers(r):
        assert time.monotonic() < deadline, f"still reading after hang-up: {blocked_readers(r)}"
        time.sleep(0.05)


def test_hanging_up_frees_the_connection(served: str, r: redis.Redis) -> None:
    task_id = httpx.post(f"{served}/jobs/async/hang-up").json()["id"]
    hang_up_after_the_first_event(f"{served}/jobs/{task_id}/events", r)


class Recorded(logging.Handler):
    """The records of WARNING and above that reach the loggers it is added to."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("remove", ["task", "queue"])
def test_deleting_the_task_or_its_queue_ends_the_stream_cleanly(
    served: str, redis_url: str, remove: str
) -> None:
    recorded = Recorded()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "asynq", "asynq_fastapi")]
    for logger in loggers:
        logger.addHandler(recorded)
    try:
        with asynq.Client(redis_url) as client:  # scheduled: the worker leaves it alone
            info = steps.using(client=client).enqueue_in(3600, "deleted")
        seen: list[tuple[str, dict[str, Any]]] = []
        with httpx.stream("GET", f"{served}/jobs/{info.id}/events", timeout=20) as answer:
            for name, data in sse(answer.iter_lines()):
                seen.append((name, data))
                if len(seen) == 1:
                    with asynq.Inspector(redis_url) as inspector:
                        if remove == "task":
                            inspector.delete_task("default", info.id)
                        else:
                            inspector.delete_queue("default", force=True)
            # The loop ends because the server ended the response, not because we left.
        assert answer.is_stream_consumed
    finally:
        for logger in loggers:
            logger.removeHandler(recorded)
    assert seen[0] == (
        "update",
        {"state": "scheduled", "progress": None, "final": False, "error": ""},
    )
    assert seen[-1] == ("end", {"state": "gone", "progress": None, "final": True, "error": ""})
    assert [r.getMessage() for r in recorded.records] == []


def test_the_dashboard_routers_stream_frees_the_connection_on_hang_up(
    redis_url: str, r: redis.Redis
) -> None:
    """The dashboard's own progress stream, served through the router, behind its dependency."""
    from tests.fastapi.test_fastapi_dashboard import dashboard_app

    gates.clear()
    lifespan = asynq_lifespan(redis_url, worker=True, tasks=fns, worker_config=FAST)
    running = _serve(dashboard_app(redis_url, lifespan))
    try:
        with asynq.Client(redis_url) as client:
            info = steps.using(client=client).enqueue("router")
        url = f"{running.url}/admin/asynq/api/queues/default/tasks/{info.id}/progress"
        assert httpx.get(url).status_code == 401  # the router's dependency comes first
        hang_up_after_the_first_event(url, r, **{"x-token": "t-staff"})
    finally:
        for event in gates.get("router", []):
            event.set()
        _stop(running)
