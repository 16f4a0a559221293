"""FastAPI dependencies in task functions, on a real Redis and real workers: ``Depends(...)``
parameters are not JSON arguments; the worker (``run_app_worker``, the embedded one, eager
mode) makes them for each run as FastAPI makes them for a request — sub-dependencies, one call
per run, classes, threads for plain ``def``, generator teardown after the task (also after
its failure, the error thrown in, last opened first closed) and the app's
``dependency_overrides``; a dependency needing a request is refused, naming task and
parameter; a Go producer's JSON runs the same function."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Header, Request, Security
from fastapi.testclient import TestClient

import asynq
from asynq_fastapi import asynq_lifespan, current_app, run_app_worker
from asynq_fastapi.depends import SOURCE
from tests.fastapi import depends_app
from tests.fastapi.depends_app import journal, ship
from tests.fastapi.processes import child, wait_for
from tests.fastapi.test_fastapi_worker import finished
from tests.helpers.waiting import wait_until
from tests.server.conftest import FAST, start_server

__all__ = ["start_server"]  # a fixture

#: What one successful run of ``ship`` does: settings made once (for the session, the task
#: and the mailer), the generators closed after the task, the last opened first.
SHIP_RUN = ["settings", "session open", "audit open", "ship ran", "audit closed", "session closed"]


@pytest.fixture(autouse=True)
def empty_journal() -> Iterator[None]:
    journal.clear()
    yield
    journal.clear()


def worker_app(redis_url: str) -> FastAPI:
    return FastAPI(lifespan=asynq_lifespan(redis_url))


@pytest.fixture
async def run_worker(redis_url: str) -> AsyncIterator[Any]:
    """``await run_worker(app)``: that app's worker in this test's loop, stopped at the end."""
    runs: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(app: FastAPI) -> None:
        stop = asyncio.Event()
        runs.append(
            (stop, asyncio.create_task(run_app_worker(app, depends_app.tasks, FAST, stop=stop)))
        )

    yield start
    for stop, worker in runs:
        stop.set()
        await asyncio.wait_for(worker, 20)


def settings_override(prefix: str) -> Any:
    return lambda: depends_app.Settings(prefix, made_for=asynq.current_task().id)


async def outcome(redis_url: str, info: asynq.TaskInfo) -> asynq.TaskInfo:
    return await wait_until(lambda: finished(redis_url, info.id))


async def test_only_the_json_arguments_travel(redis_url: str) -> None:
    async with asynq.AsyncClient(redis_url) as client:
        info = await ship.using(client=client).aenqueue(7)
    assert json.loads(info.payload) == {"order_id": 7}
    with pytest.raises(asynq.ValidationError, match="unexpected keyword argument 'settings'"):
        ship.task(7, settings=depends_app.Settings("x"))  # type: ignore[call-arg]
    assert journal == []  # nothing is made on the producer's side


async def test_dependencies_are_made_for_each_run_and_closed_after_it(
    redis_url: str, run_worker: Any
) -> None:
    await run_worker(worker_app(redis_url))
    async with asynq.AsyncClient(redis_url) as client:
        first = await ship.using(client=client).aenqueue(7)
        done = await outcome(redis_url, first)
        assert done.state == asynq.TaskState.COMPLETED, done.last_err
        assert journal == SHIP_RUN
        second = await outcome(redis_url, await ship.using(client=client).aenqueue(8))
        assert second.state == asynq.TaskState.COMPLETED, second.last_err
        result = await ship.using(client=client).aresult(first)
    assert result == "order 7 in order-db from order@example.com"
    assert journal == SHIP_RUN * 2  # the cache lives for one run, not for the process


async def test_a_failing_task_closes_its_dependencies_with_its_error(
    redis_url: str, run_worker: Any
) -> None:
    await run_worker(worker_app(redis_url))
    async with asynq.AsyncClient(redis_url) as client:
        info = await ship.using(client=client, max_retry=0).aenqueue(-1)
    done = await outcome(redis_url, info)
    assert done.state == asynq.TaskState.ARCHIVED
    assert done.last_err == "no such order -1"
    assert journal == [
        "settings",
        "session open",
        "audit open",
        "ship ran",
        "audit closed",
        "session saw ValueError: no such order -1",
        "session closed",
    ]


async def test_a_failing_teardown_fails_the_task_and_keeps_no_result(
    redis_url: str, run_worker: Any
) -> None:
    await run_worker(worker_app(redis_url))
    async with asynq.AsyncClient(redis_url) as client:
        info = await depends_app.save.using(client=client, max_retry=0).aenqueue("book")
    done = await outcome(redis_url, info)
    assert done.state == asynq.TaskState.ARCHIVED
    assert done.last_err == "commit of ['book'] failed"
    assert not done.result  # the function returned, but its task failed
    assert journal == ["save ran"]


async def test_a_plain_def_task_gets_its_async_dependency(redis_url: str, run_worker: Any) -> None:
    await run_worker(worker_app(redis_url))
    async with asynq.AsyncClient(redis_url) as client:
        info = await depends_app.label.using(client=client).aenqueue(3)
        done = await outcome(redis_url, info)
        assert done.state == asynq.TaskState.COMPLETED, done.last_err
        assert await depends_app.label.using(client=client).aresult(info) == "label 3 in order-db"
    assert journal == ["settings", "session open", "label ran", "session closed"]


async def test_the_apps_dependency_overrides_apply(redis_url: str, run_worker: Any) -> None:
    app = worker_app(redis_url)
    app.dependency_overrides[depends_app.get_settings] = settings_override("test")
    await run_worker(app)
    async with asynq.AsyncClient(redis_url) as client:
        info = await ship.using(client=client).aenqueue(7)
        done = await outcome(redis_url, info)
        assert done.state == asynq.TaskState.COMPLETED, done.last_err
        result = await ship.using(client=client).aresult(info)
    # The override reaches the task, the session's sub-dependency and the class's.
    assert result == "test 7 in test-db from test@example.com"
    assert "settings" not in journal


def test_an_embedded_worker_makes_the_dependencies(redis_url: str) -> None:
    lifespan = asynq_lifespan(redis_url, worker=True, tasks=depends_app.tasks, worker_config=FAST)
    app = FastAPI(lifespan=lifespan)

    @app.post("/ship/{order_id}")
    async def post_ship(order_id: int) -> dict[str, str]:
        return {"id": (await ship.aenqueue(order_id)).id}

    with TestClient(app) as http:
        task_id = http.post("/ship/5").json()["id"]
        done = asyncio.run(wait_until(lambda: finished(redis_url, task_id)))
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == "order 5 in order-db from order@example.com"
    assert journal == SHIP_RUN


def test_eager_runs_make_them_with_the_running_apps_overrides(redis_url: str) -> None:
    with asynq.eager():
        assert ship.enqueue(1).result == b'"order 1 in order-db from order@example.com"'
        app = worker_app(redis_url)
        app.dependency_overrides[depends_app.get_settings] = settings_override("t")
        with TestClient(app):  # its asynq_lifespan runs: the app of eager runs
            info = ship.enqueue(2)
    assert json.loads(info.result or b"") == "t 2 in t-db from t@example.com"


async def test_a_plain_worker_makes_them_without_an_app(redis_url: str, start_server: Any) -> None:
    app = worker_app(redis_url)  # not running: its overrides must not apply
    app.dependency_overrides[depends_app.get_settings] = settings_override("test")
    await start_server(depends_app.tasks)
    async with asynq.AsyncClient(redis_url) as client:
        info = await ship.using(client=client).aenqueue(4)
        done = await outcome(redis_url, info)
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == "order 4 in order-db from order@example.com"


def test_the_worker_process_makes_them(redis_url: str) -> None:
    argv = ["-m", "asynq_fastapi", "worker", "tests.fastapi.depends_app:app"]
    argv += ["--tasks", "tests.fastapi.depends_app:tasks"]
    with child(argv, ASYNQ_REDIS_URL=redis_url) as proc:
        info = ship.using(client=asynq.Client(redis_url)).enqueue(6)
        done = wait_for(lambda: finished(redis_url, info.id), proc, "the task")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == "order 6 in order-db from order@example.com"


@pytest.mark.interop
async def test_a_go_producers_json_runs_the_function(redis_url: str, run_worker: Any) -> None:
    from tests.server.gohelpers import go_enqueue

    await run_worker(worker_app(redis_url))
    # What Go's json.Marshal writes for struct{ OrderID int `json:"order_id"` }.
    [task_id] = go_enqueue(
        redis_url,
        [{"type": "deps:ship", "payload": b'{"order_id":9}', "options": {"retention": 3600}}],
    )
    done = await wait_until(lambda: finished(redis_url, task_id))
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == "order 9 in order-db from order@example.com"


# -- what only a request has ----------------------------------------------------------------


def client_host(request: Request) -> str:
    return request.client.host if request.client else ""


def greeting(host: Annotated[str, Depends(client_host)]) -> str:
    return f"hello {host}"


def user_agent(agent: Annotated[str, Header()]) -> str:
    return agent


def page(limit: int = 10) -> int:
    return limit


def token() -> str:
    return "t"


refused = asynq.TaskRegistry()


@pytest.mark.parametrize(
    ("dependency", "message"),
    [
        (
            greeting,
            'task "refused:f": parameter "value": the dependency greeting -> client_host needs '
            'the Request (parameter "request"), which only a request has',
        ),
        (user_agent, 'the dependency user_agent needs the header "agent"'),
        (page, 'the dependency page needs the query parameter "limit"'),
    ],
)
def test_a_dependency_needing_a_request_is_refused_at_decoration(
    dependency: Any, message: str
) -> None:
    with pytest.raises(asynq.ValidationError) as caught:

        @refused.task("refused:f")
        async def f(n: int, value: Any = Depends(dependency)) -> None: ...

    assert message in str(caught.value)
    assert "refused:f" not in refused


def test_security_scopes_are_refused() -> None:
    with pytest.raises(asynq.ValidationError, match='parameter "user": Security scopes need a'):

        @refused.task("refused:scoped")
        async def scoped(user: Any = Security(token, scopes=["orders:write"])) -> None: ...

    def scoped_user(user: Annotated[str, Security(token, scopes=["orders:write"])]) -> str:
        return user

    with pytest.raises(asynq.ValidationError, match="scoped_user -> token needs security scopes"):

        @refused.task("refused:nested")
        async def nested(user: Any = Depends(scoped_user)) -> None: ...


async def test_one_refused_after_decoration_is_archived_at_its_first_run(
    redis_url: str, run_worker: Any
) -> None:
    asynq.remove_parameter_source(SOURCE)  # as if asynq_fastapi were imported after the tasks
    try:

        @depends_app.tasks.task("deps:late")
        async def late(n: int, value: str = Depends(greeting)) -> None: ...

    finally:
        asynq.add_parameter_source(SOURCE)
    await run_worker(worker_app(redis_url))
    async with asynq.AsyncClient(redis_url) as client:
        info = await client.enqueue(asynq.Task.from_json("deps:late", {"n": 1}), max_retry=5)
    done = await outcome(redis_url, info)
    assert done.state == asynq.TaskState.ARCHIVED
    assert done.retried == 0  # no run of it can succeed
    assert done.last_err.startswith(
        'task "deps:late": parameter "value": the dependency greeting -> client_host needs the '
        "Request"
    )


# -- one dependency for routes and tasks ----------------------------------------------------


def get_label() -> str:
    """What a route and a task both need, from what the app holds: ``current_app()`` is the
    running app in a route and the worker's app in a task."""
    label: str = current_app().state.label
    return label


shared = asynq.TaskRegistry()


@shared.task("deps:labelled", retention=3600)
async def labelled(n: int, label: str = Depends(get_label)) -> str:
    return f"{label} {n}"


def labelling_app(redis_url: str) -> FastAPI:
    app = FastAPI(lifespan=asynq_lifespan(redis_url, worker=True, tasks=shared, worker_config=FAST))
    app.state.label = "from-the-app"

    @app.get("/label")
    async def label_route(label: Annotated[str, Depends(get_label)]) -> dict[str, str]:
        return {"label": label}

    @app.post("/labelled/{n}")
    async def enqueue_labelled(n: int) -> dict[str, str]:
        return {"id": (await labelled.aenqueue(n)).id}

    return app


def test_one_dependency_serves_the_routes_and_the_tasks(redis_url: str) -> None:
    with TestClient(labelling_app(redis_url)) as http:
        assert http.get("/label").json() == {"label": "from-the-app"}
        task_id = http.post("/labelled/3").json()["id"]
        done = asyncio.run(wait_until(lambda: finished(redis_url, task_id)))
    assert done.state == asynq.TaskState.COMPLETED, done.last_err
    assert json.loads(done.result) == "from-the-app 3"


def test_current_app_outside_a_worker_needs_exactly_one_running_app(redis_url: str) -> None:
    with pytest.raises(LookupError, match="no apps run an asynq_lifespan"):
        current_app()
    first, second = worker_app(redis_url), worker_app(redis_url)
    with TestClient(first):
        assert current_app() is first
        with TestClient(second), pytest.raises(LookupError, match="2 apps run"):
            current_app()
        assert current_app() is first
    with pytest.raises(LookupError):
        current_app()
