"""Task functions of the extension: typed enqueue on the app's Redis, and a real worker server
running each function inside a fresh app context whose teardown removes the database session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask, current_app, has_app_context

import asynq
from tests.flask_adapter import shop
from tests.helpers.waiting import wait_until


@pytest.fixture
def app(redis_url: str, tmp_path: Path) -> Iterator[Flask]:
    shop.seen.clear()
    shop.teardowns.clear()
    app = shop.create_app(
        ASYNQ_REDIS_URL=redis_url, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.db'}"
    )
    with app.app_context():
        shop.db.session.add(shop.User(id=1, name="ada"))
        shop.db.session.commit()
    shop.teardowns.clear()
    yield app
    with app.app_context():
        shop.db.engine.dispose()


def hooks(app: Flask) -> dict[str, Any]:
    """The app-context hooks of the extension's server configuration, for ``start_server``."""
    config = shop.asynq.server_config(app)
    return {"task_wrapper": config.task_wrapper, "thread_wrapper": config.thread_wrapper}


def completed(r: redis.Redis, queue: str = "default") -> int:
    return int(r.zcard(f"asynq:{{{queue}}}:completed"))


def test_enqueue_sends_typed_tasks_to_the_apps_redis(app: Flask, r: redis.Redis) -> None:
    with app.app_context():
        now = shop.welcome.enqueue(1)
        later = shop.welcome.enqueue_in(timedelta(minutes=5), 1)
        at = shop.welcome.enqueue_at(datetime.now(UTC) + timedelta(hours=1), user_id=1)
        with pytest.raises(asynq.ValidationError):
            shop.welcome.enqueue("not an int", extra=1)  # type: ignore[call-arg]

    assert r.lrange("asynq:{default}:pending", 0, -1) == [now.id.encode()]
    assert {m.decode() for m in r.zrange("asynq:{default}:scheduled", 0, -1)} == {
        later.id,
        at.id,
    }
    assert now.type == "shop:welcome" and now.payload == b'{"user_id":1}'
    assert list(shop.asynq.registry) == sorted(
        [
            "shop:welcome",
            "shop:rename-uncommitted",
            "shop:read-name",
            "shop:async",
            "shop:boom",
            "shop:connection-owner",
        ]
    )


async def test_each_task_runs_in_a_fresh_app_context_torn_down_after_it(
    app: Flask, r: redis.Redis, start_server: Callable[..., Awaitable[Any]]
) -> None:
    await start_server(shop.asynq.registry, concurrency=1, **hooks(app))
    with app.app_context():
        infos = [shop.welcome.enqueue(1), shop.async_hello.enqueue("hi"), shop.boom.enqueue()]
        infos.append(shop.welcome.enqueue(1))
    shop.teardowns.clear()  # the enqueues' own app context above
    await wait_until(lambda: completed(r) == 3 and r.zcard("asynq:{default}:retry") == 1)

    assert [s["kind"] for s in shop.seen] == ["welcome", "async", "boom", "welcome"]
    assert all(s["app"] == "shop" for s in shop.seen)
    # g is the app context's: empty at the start of every task, although each task set it.
    assert all(s["g_before"] == [] for s in shop.seen)
    # One push and pop per task, the failing one included.
    assert shop.teardowns == {"shop": 4}
    with app.app_context():
        assert shop.db.session.get(shop.User, 1).welcomed == 2
        assert shop.async_hello.result(infos[1]) == "hi from shop"
        assert shop.welcome.result(infos[0]) == "ada"
    sync_threads = {s["thread"] for s in shop.seen if s["kind"] != "async"}
    assert "MainThread" not in sync_threads  # plain functions ran in the worker threads


async def test_a_tasks_uncommitted_changes_never_reach_the_next_task(
    app: Flask, r: redis.Redis, start_server: Callable[..., Awaitable[Any]]
) -> None:
    await start_server(shop.asynq.registry, concurrency=1, **hooks(app))
    with app.app_context():
        for n in range(5):
            shop.rename_uncommitted.enqueue(1, f"dirty-{n}")
            read = shop.read_name.enqueue(1)
    await wait_until(lambda: completed(r) == 5)

    with app.app_context():
        assert shop.read_name.result(read) == "ada"
        for info in r.zrange("asynq:{default}:completed", 0, -1):
            assert r.hget(b"asynq:{default}:t:" + info, "result") == b'"ada"'
    assert len(shop.seen) == 10


async def test_a_type_without_function_fails_like_a_servemux(
    app: Flask, r: redis.Redis, start_server: Callable[..., Awaitable[Any]]
) -> None:
    await start_server(shop.asynq.registry, **hooks(app))
    asynq.get_client().enqueue(asynq.Task("shop:unknown"), max_retry=0)
    await wait_until(lambda: r.zcard("asynq:{default}:archived") == 1)
    (task_id,) = r.zrange("asynq:{default}:archived", 0, -1)
    error = r.hget(b"asynq:{default}:t:" + task_id, "msg")
    assert error is not None and b"handler not found" in error
    assert shop.teardowns == {}  # no function, no app context


def test_server_config_refuses_an_app_of_another_extension() -> None:
    with pytest.raises(RuntimeError, match="not registered"):
        shop.asynq.server_config(Flask("stranger"))


async def test_the_apps_own_hooks_run_inside_the_app_context(
    redis_url: str, tmp_path: Path, r: redis.Redis, start_server: Callable[..., Awaitable[Any]]
) -> None:
    entered: list[tuple[str, str]] = []

    @contextlib.asynccontextmanager
    async def task_hook(task: asynq.ActiveTask) -> AsyncIterator[None]:
        entered.append(("task", current_app.name if has_app_context() else "-"))
        yield

    @contextlib.contextmanager
    def thread_hook(task: asynq.ActiveTask) -> Iterator[None]:
        entered.append(("thread", current_app.name))
        yield

    app = shop.create_app(
        ASYNQ_REDIS_URL=redis_url,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hooks.db'}",
        ASYNQ_TASK_WRAPPER=task_hook,
        ASYNQ_THREAD_WRAPPER=thread_hook,
    )
    await start_server(shop.asynq.registry, concurrency=1, **hooks(app))
    with app.app_context():
        shop.async_hello.enqueue("a")
        shop.read_name.enqueue(7)  # no such user: fails, hooks still ran
    await wait_until(lambda: completed(r) == 1 and r.zcard("asynq:{default}:retry") == 1)
    assert sorted(entered) == [("task", "-"), ("task", "shop"), ("thread", "shop")]
