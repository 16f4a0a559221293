"""Workers for a FastAPI app, on a real Redis: task functions taking and returning Pydantic
models run inside the app's lifespan (reusing what it opened), in-process, as
``python -m asynq_fastapi worker`` and embedded with ``asynq_lifespan(worker=True)``; a payload
that fails validation is archived at once; a Go producer's JSON feeds the same function, and a
Go struct's JSON is a Pydantic model argument both ways."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

import asynq
from asynq_fastapi import asynq_lifespan, current_app, run_app_worker
from tests.fastapi import sample_app
from tests.fastapi.processes import child, wait_for
from tests.functions.test_go_interop import SENT_AT, go_fn_server
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST, start_server

__all__ = ["go_fn_server", "start_server"]  # fixtures

GREETING = sample_app.Greeting(name="ada", times=2)
EXPECTED = sample_app.Greeted(text="hello ada hello ada", by="opened-by-lifespan")


def inspector_task(redis_url: str, task_id: str, queue: str = "default") -> asynq.TaskInfo:
    with asynq.Inspector(redis_url) as inspector:
        return inspector.get_task_info(queue, task_id)


def servers(redis_url: str) -> list[asynq.ServerInfo]:
    """The worker servers in Redis. A server writes its state with its first heartbeat, which
    starts with it but may land after ``start()`` returned: wait for it, never assume it."""
    with asynq.Inspector(redis_url) as inspector:
        return inspector.servers()


def finished(redis_url: str, task_id: str) -> asynq.TaskInfo | None:
    info = inspector_task(redis_url, task_id)
    return info if info.state in (asynq.TaskState.COMPLETED, asynq.TaskState.ARCHIVED) else None


@pytest.fixture
async def app_worker(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[asyncio.Event]:
    """The sample app's worker running in this test's loop, inside the app's lifespan."""
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_url)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_app_worker(sample_app.app, sample_app.tasks, FAST, stop=stop))
    yield stop
    stop.set()
    await asyncio.wait_for(worker, 20)


async def test_pydantic_arguments_and_result_inside_the_lifespan(
    app_worker: asyncio.Event, redis_url: str
) -> None:
    async with asynq.AsyncClient(redis_url) as client:
        info = await sample_app.greet.using(client=client).aenqueue(GREETING)
        payload = json.loads(info.payload)
        assert payload == {"greeting": {"name": "ada", "times": 2}}
        await wait_until(lambda: finished(redis_url, info.id))
        result = await sample_app.greet.using(client=client).aresult(info)
    assert result == EXPECTED  # decoded back into the return annotation, a Greeted
    assert isinstance(result, sample_app.Greeted)


async def test_a_payload_failing_validation_is_archived_at_once(
    app_worker: asyncio.Event, redis_url: str
) -> None:
    async with asynq.AsyncClient(redis_url) as client:
        bad = asynq.Task.from_json("sample:greet", {"greeting": {"name": 5, "times": "many"}})
        info = await client.enqueue(bad, max_retry=5)
    archived = await wait_until(lambda: finished(redis_url, info.id))
    assert archived.state == asynq.TaskState.ARCHIVED
    assert archived.retried == 0  # not retried: retrying cannot fix the payload
    assert archived.last_err.startswith('task "sample:greet": argument "greeting": ')
    assert "name: Input should be a valid string" in archived.last_err
    assert "times: Input should be a valid integer" in archived.last_err


@pytest.mark.interop
async def test_a_go_producers_json_feeds_the_same_function(
    app_worker: asyncio.Event, redis_url: str
) -> None:
    from tests.server.gohelpers import go_enqueue

    # What Go's json.Marshal writes for struct{ Greeting struct{ Name string `json:"name"`;
    # Times int `json:"times"` } `json:"greeting"` }.
    payload = b'{"greeting":{"name":"ada","times":2}}'
    [task_id] = go_enqueue(
        redis_url, [{"type": "sample:greet", "payload": payload, "options": {"retention": 3600}}]
    )
    done = await wait_until(lambda: finished(redis_url, task_id))
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == EXPECTED.model_dump()


def test_the_worker_process_runs_inside_the_apps_lifespan(redis_url: str) -> None:
    argv = ["-m", "asynq_fastapi", "worker", "tests.fastapi.sample_app:app"]
    argv += ["--tasks", "tests.fastapi.sample_app:tasks", "--concurrency", "2"]
    with child(argv, ASYNQ_REDIS_URL=redis_url) as proc:
        info = sample_app.greet.using(client=asynq.Client(redis_url)).enqueue(GREETING)
        done = wait_for(lambda: finished(redis_url, info.id), proc, "the task")
        assert done.state == asynq.TaskState.COMPLETED, done.last_err
        [server] = wait_for(lambda: servers(redis_url), proc, "the server's first heartbeat")
        assert server.concurrency == 2
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert json.loads(done.result) == EXPECTED.model_dump()


def test_a_bad_app_string_is_one_error_line(redis_url: str) -> None:
    argv = ["-m", "asynq_fastapi", "worker", "tests.fastapi.sample_app:nothing"]
    with child(argv, ASYNQ_REDIS_URL=redis_url) as proc:
        proc.wait(timeout=30)
        _, err = proc.communicate()
    assert proc.returncode == 1
    [line] = err.splitlines()
    assert "asynq worker: cannot import 'tests.fastapi.sample_app:nothing'" in line


class Job(BaseModel):
    n: int


embedded = asynq.TaskRegistry()


@embedded.task("embedded:square", retention=3600)
async def square(job: Job) -> int:
    return job.n * job.n + current_app().state.offset


def test_an_embedded_worker_runs_beside_the_app(redis_url: str) -> None:
    lifespan = asynq_lifespan(redis_url, worker=True, tasks=embedded, worker_config=FAST)
    app = FastAPI(lifespan=lifespan)
    app.state.offset = 1

    @app.post("/square/{n}")
    async def post_square(n: int) -> dict[str, Any]:
        info = await square.aenqueue(Job(n=n))
        return {"id": info.id}

    with TestClient(app) as http:
        task_id = http.post("/square/7").json()["id"]
        [server] = asyncio.run(wait_until(lambda: servers(redis_url)))
        assert server.pid == os.getpid()  # in the app's process
        done = asyncio.run(wait_until(lambda: finished(redis_url, task_id)))
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == 50
    assert servers(redis_url) == []  # stopped with the lifespan, which waits for the shutdown


# -- the JSON of a Go struct, as a Pydantic model ---------------------------------------------


class Address(BaseModel):
    """The nested struct of tests/go/cmd/fn_struct's Welcome, as a Pydantic model."""

    city: str
    zip: str
    lines: list[str]


go_shaped = asynq.TaskRegistry()
welcomed: list[dict[str, Any]] = []


@go_shaped.task("fn:welcome")
async def welcome(
    user_id: int,
    email: str,
    sent_at: datetime,
    tags: list[str],
    scores: dict[str, float],
    token: bytes,
    address: Address,
    note: str | None = None,
) -> None:
    welcomed.append({"user_id": user_id, "address": address, "note": note})


@pytest.mark.interop
async def test_a_go_structs_json_is_a_pydantic_argument(start_server: Any, redis_url: str) -> None:
    # tags, scores and the model's lines are left nil in Go, which writes them as null.
    from tests.server.gohelpers import go_json

    welcomed.clear()
    await start_server(go_shaped)
    sent = go_json(
        "fn_struct",
        redis_url,
        "-mode",
        "enqueue",
        input={
            "user_id": 7,
            "email": "a@b.c",
            "sent_at": "2026-03-01T12:30:15.25Z",
            "token": "AAH/",
            "address": {"city": "Oslo", "zip": "0150"},
        },
    )
    payload = json.loads(sent["payload"])
    assert payload["address"] == {"city": "Oslo", "zip": "0150", "lines": None}
    assert payload["tags"] is None
    await wait_until(lambda: welcomed)
    assert welcomed == [
        {"user_id": 7, "address": Address(city="Oslo", zip="0150", lines=[]), "note": None}
    ]


@pytest.mark.interop
async def test_a_go_handler_decodes_a_pydantic_argument(go_fn_server: Any, redis_url: str) -> None:
    from tests.server.gohelpers import go_events

    await wait_until(lambda: go_events(go_fn_server, "started"), within=30)
    async with asynq.AsyncClient(redis_url) as client:
        info = await welcome.using(client=client).aenqueue(
            7, "a@b.c", SENT_AT, [], {}, b"", Address(city="Oslo", zip="0150", lines=[])
        )
    decoded = await wait_until(
        lambda: go_events(go_fn_server, "decoded") or go_events(go_fn_server, "error")
    )
    assert [(e["event"], e["id"]) for e in decoded] == [("decoded", info.id)], decoded
    assert decoded[0]["welcome"]["address"] == {"city": "Oslo", "zip": "0150", "lines": []}
