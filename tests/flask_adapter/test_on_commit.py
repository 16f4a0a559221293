"""Flask views enqueue after the Flask-SQLAlchemy commit: sent on commit, dropped on rollback
and with a rolled-back savepoint; then a real worker runs the task against the committed row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from tests.flask_adapter import shop
from tests.flask_adapter.test_tasks import completed, hooks
from tests.helpers.waiting import wait_until


@pytest.fixture
def app(redis_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = shop.create_app(
        ASYNQ_REDIS_URL=redis_url, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.db'}"
    )
    yield app
    with app.app_context():
        shop.db.engine.dispose()


def pending_types(r: redis.Redis) -> list[bytes]:
    ids = r.lrange("asynq:{default}:pending", 0, -1)
    return [r.hget(b"asynq:{default}:t:" + i, "msg") or b"" for i in ids]


async def test_views_enqueue_after_commit_only(
    app: Flask, r: redis.Redis, start_server: Callable[..., Awaitable[Any]]
) -> None:
    client = app.test_client()
    assert client.post("/signup/ada?fail=1").status_code == 500
    assert client.post("/signup/bob?savepoint=1").status_code == 200
    assert r.llen("asynq:{default}:pending") == 1  # bob's welcome only
    assert b"shop:welcome" in pending_types(r)[0]

    await start_server(shop.asynq.registry, **hooks(app))
    await wait_until(lambda: completed(r) == 1)
    with app.app_context():
        users = shop.db.session.scalars(shop.db.select(shop.User)).all()
        assert [(u.name, u.welcomed) for u in users] == [("bob", 1)]


def test_an_app_without_flask_sqlalchemy_is_told_so(redis_url: str) -> None:
    from asynq_flask import Asynq

    extension = Asynq()
    app = Flask("plain")
    app.config["ASYNQ_REDIS_URL"] = redis_url
    extension.init_app(app)
    with app.app_context(), pytest.raises(RuntimeError, match="no Flask-SQLAlchemy"):
        extension.enqueue_on_commit(shop.welcome, 1)
