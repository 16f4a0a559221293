"""``asynq_lifespan`` and the client dependency, through FastAPI's TestClient on a real Redis:
one client per app, composable lifespans, overrides, clear errors at start-up and when the
lifespan is missing, task-function handles sending through the lifespan's client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
import redis
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.testclient import TestClient

import asynq
from asynq_fastapi import (
    AsynqClient,
    LifespanNotRunningError,
    asynq_lifespan,
    get_asynq_client,
)
from tests.helpers.redis_procs import free_port
from tests.helpers.waiting import wait_until

fns = asynq.TaskRegistry()


@fns.task("lifespan:hello")
async def hello(name: str) -> None:
    raise AssertionError("never run here: only enqueued")


def pending(r: redis.Redis, queue: str = "default") -> list[bytes]:
    return list(r.lrange(f"asynq:{{{queue}}}:pending", 0, -1))


def enqueueing_app(lifespan: Any) -> FastAPI:
    app = FastAPI(lifespan=lifespan)
    seen: list[asynq.AsyncClient] = []
    app.state.seen = seen

    @app.post("/raw")
    async def raw(client: AsynqClient) -> dict[str, str]:
        seen.append(client)
        info = await client.enqueue(asynq.Task("lifespan:raw", b"x"))
        return {"id": info.id}

    @app.post("/hello/{name}")
    async def post_hello(name: str) -> dict[str, str]:
        info = await hello.aenqueue(name)
        return {"id": info.id}

    return app


@pytest.fixture
def default_elsewhere() -> Iterator[None]:
    """Point the process-wide default clients at a port nobody listens on, so only the
    lifespan's client can succeed."""
    asynq.configure(f"redis://127.0.0.1:{free_port()}/0")
    yield
    asynq.configure()


def test_one_client_for_every_request_closed_on_exit(redis_url: str, r: redis.Redis) -> None:
    app = enqueueing_app(asynq_lifespan(redis_url))
    with TestClient(app) as http:
        ids = [http.post("/raw").json()["id"] for _ in range(3)]
        client = app.state.asynq
        assert isinstance(client, asynq.AsyncClient)
    assert len(set(map(id, app.state.seen))) == 1
    assert app.state.seen[0] is client
    assert len(pending(r)) == 3
    assert {r.hget(f"asynq:{{default}}:t:{i}", "state") for i in ids} == {b"pending"}
    assert not hasattr(app.state, "asynq")  # gone with the lifespan
    clients = [c for c in r.client_list() if c.get("cmd") not in ("client|list", "client")]
    assert clients == []  # its connections were closed


def test_task_function_handles_send_through_the_lifespan_client(
    redis_url: str, r: redis.Redis, default_elsewhere: None
) -> None:
    app = enqueueing_app(asynq_lifespan(redis_url))
    with TestClient(app) as http:
        answer = http.post("/hello/ada")
    assert answer.status_code == 200, answer.text
    task_id = answer.json()["id"]
    assert r.hget(f"asynq:{{default}}:t:{task_id}", "state") == b"pending"


def test_nests_inside_the_apps_own_lifespan(redis_url: str, r: redis.Redis) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("db open")
        async with asynq_lifespan(redis_url)(app) as asynq_state:
            yield {**asynq_state, "db": "the-db"}
        events.append("db closed")

    app = enqueueing_app(lifespan)

    @app.get("/state")
    async def state(request: Request, client: AsynqClient) -> dict[str, Any]:
        return {"db": request.state.db, "same": request.state.asynq is client}

    with TestClient(app) as http:
        assert http.get("/state").json() == {"db": "the-db", "same": True}
        assert http.post("/raw").status_code == 200
    assert events == ["db open", "db closed"]
    assert len(pending(r)) == 1


def test_a_websocket_route_gets_the_client_too(redis_url: str, r: redis.Redis) -> None:
    app = enqueueing_app(asynq_lifespan(redis_url))

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, client: AsynqClient) -> None:
        await websocket.accept()
        name = await websocket.receive_text()
        info = await client.enqueue(asynq.Task.from_json("lifespan:ws", {"name": name}))
        await websocket.send_text(info.id)
        await websocket.close()

    with TestClient(app) as http, http.websocket_connect("/ws") as socket:
        socket.send_text("ada")
        task_id = socket.receive_text()
    assert r.hget(f"asynq:{{default}}:t:{task_id}", "state") == b"pending"


def test_reads_the_redis_url_from_the_environment(
    redis_url: str, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_url)
    app = enqueueing_app(asynq_lifespan())
    with TestClient(app) as http:
        assert http.post("/raw").status_code == 200
    assert len(pending(r)) == 1


def test_depends_and_the_alias_are_overridable(redis_url: str, r: redis.Redis) -> None:
    app = enqueueing_app(asynq_lifespan(redis_url))
    sent: list[asynq.Task] = []

    class Recorder:
        async def enqueue(self, task: asynq.Task, **opts: Any) -> Any:
            sent.append(task)
            return type("Info", (), {"id": "fake-id"})()

    @app.post("/explicit")
    async def explicit(
        client: Annotated[asynq.AsyncClient, Depends(get_asynq_client)],
    ) -> dict[str, str]:
        info = await client.enqueue(asynq.Task("lifespan:explicit"))
        return {"id": info.id}

    app.dependency_overrides[get_asynq_client] = Recorder
    with TestClient(app) as http:
        assert http.post("/raw").json() == {"id": "fake-id"}
        assert http.post("/explicit").json() == {"id": "fake-id"}
    assert [t.type for t in sent] == ["lifespan:raw", "lifespan:explicit"]
    assert pending(r) == []


def test_a_route_without_the_lifespan_says_what_to_add() -> None:
    app = enqueueing_app(None)
    with TestClient(app) as http, pytest.raises(LifespanNotRunningError) as caught:
        http.post("/raw")
    assert "lifespan=asynq_lifespan(" in str(caught.value)
    with TestClient(app, raise_server_exceptions=False) as http:
        assert http.post("/raw").status_code == 500


def test_an_unreachable_redis_fails_the_start_up() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    app = enqueueing_app(asynq_lifespan(url))
    with pytest.raises(asynq.BrokerError) as caught, TestClient(app):
        raise AssertionError("the app must not start")
    assert str(caught.value).startswith(f"asynq_lifespan: cannot reach Redis at {url}: ")
    assert "\n" not in str(caught.value)


def test_the_password_stays_out_of_the_message() -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    with (
        pytest.raises(asynq.BrokerError) as caught,
        TestClient(FastAPI(lifespan=asynq_lifespan(url))),
    ):
        pass
    assert "s3cret" not in str(caught.value)
    assert ":***@127.0.0.1" in str(caught.value)


def test_a_malformed_url_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(asynq.ValidationError, match="scheme 'http'"):
        asynq_lifespan("http://nowhere")
    monkeypatch.setenv("ASYNQ_REDIS_URL", "mysql://nowhere")
    with (
        pytest.raises(asynq.ValidationError) as caught,
        TestClient(FastAPI(lifespan=asynq_lifespan())),
    ):
        raise AssertionError("the app must not start")
    assert str(caught.value).startswith(
        "asynq_lifespan: $ASYNQ_REDIS_URL: unsupported redis URL scheme 'mysql'"
    )


def servers(redis_url: str) -> int:
    with asynq.Inspector(redis_url) as inspector:
        return len(inspector.servers())


def test_asynq_worker_true_in_the_environment_embeds_a_worker(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNQ_WORKER", "true")
    with TestClient(enqueueing_app(asynq_lifespan(redis_url, tasks=fns))) as http:
        asyncio.run(wait_until(lambda: servers(redis_url) == 1))
        assert http.post("/raw").status_code == 200
    assert servers(redis_url) == 0  # stopped with the lifespan


@pytest.mark.parametrize(("setting", "argument"), [("off", None), ("", None), ("true", False)])
def test_no_worker_unless_asked(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, setting: str, argument: bool | None
) -> None:
    monkeypatch.setenv("ASYNQ_WORKER", setting)
    with TestClient(enqueueing_app(asynq_lifespan(redis_url, worker=argument))) as http:
        task_id = http.post("/hello/ada").json()["id"]
        time.sleep(1)  # longer than an embedded worker takes to register and pick a task up
        assert servers(redis_url) == 0
    with asynq.Inspector(redis_url) as inspector:
        assert inspector.get_task_info("default", task_id).state == asynq.TaskState.PENDING


def test_a_bad_asynq_worker_setting_fails_the_start_up(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNQ_WORKER", "maybe")
    with (
        pytest.raises(asynq.ValidationError) as caught,
        TestClient(FastAPI(lifespan=asynq_lifespan(redis_url))),
    ):
        raise AssertionError("the app must not start")
    assert str(caught.value) == ("asynq_lifespan: $ASYNQ_WORKER must be true or false, not 'maybe'")
