"""A small Flask app for the adapter tests: an extension, a Flask-SQLAlchemy model on SQLite,
and task functions that use both. ``create_app`` is a factory, as ``flask --app`` runs it."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from flask import Flask, current_app, g, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, String, event, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from asynq import Scheduler
from asynq_flask import Asynq


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
asynq = Asynq()
#: What the task functions saw, for the in-process tests.
seen: list[dict[str, Any]] = []
#: ``teardown_appcontext`` calls per app name.
teardowns: dict[str, int] = {}


class User(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    welcomed: Mapped[int] = mapped_column(default=0)


def _note(kind: str, **extra: Any) -> None:
    seen.append(
        {
            "kind": kind,
            "app": current_app.name,
            "g_before": sorted(vars(g)),
            "thread": threading.current_thread().name,
            **extra,
        }
    )
    g.touched = True


@asynq.task("shop:welcome", retention=600)
def welcome(user_id: int) -> str:
    """Counts the welcome in the database, in the session of this task's app context."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    # One UPDATE, not read-modify-write: concurrent tasks must not lose each other's count.
    db.session.execute(update(User).where(User.id == user_id).values(welcomed=User.welcomed + 1))
    db.session.commit()
    _note("welcome", session=id(db.session()))
    return user.name


@asynq.task("shop:rename-uncommitted")
def rename_uncommitted(user_id: int, name: str) -> None:
    """Changes a user without committing: a later task must not see it."""
    user = db.session.get(User, user_id)
    assert user is not None
    user.name = name
    _note("rename", session=id(db.session()))


@asynq.task("shop:read-name", retention=600)
def read_name(user_id: int) -> str:
    user = db.session.get(User, user_id)
    assert user is not None
    _note("read", session=id(db.session()))
    return user.name


@asynq.task("shop:async", retention=600)
async def async_hello(word: str) -> str:
    await asyncio.sleep(0)
    _note("async")
    return f"{word} from {current_app.name}"


@event.listens_for(Engine, "connect")
def _note_opener(dbapi_connection: Any, record: Any) -> None:
    record.info["opened_in"] = os.getpid()


@asynq.task("shop:connection-owner", retention=600)
def connection_owner() -> dict[str, int]:
    """Which process runs the task, and which opened the database connection it uses."""
    info = db.session.connection().connection.info
    return {"pid": os.getpid(), "opened_in": info["opened_in"]}


@asynq.task("shop:boom")
def boom() -> None:
    _note("boom")
    raise RuntimeError("boom")


def make_scheduler() -> Scheduler:
    """What ``flask asynq scheduler --factory`` runs: welcome user 1 every second."""
    scheduler = Scheduler(current_app.config["ASYNQ_REDIS_URL"], heartbeat_interval=1)
    scheduler.register("@every 1s", welcome.task(1))
    return scheduler


def create_app(**config: Any) -> Flask:
    """The app factory. ``ASYNQ_REDIS_URL`` and the database come from the environment when
    not given (``SHOP_DATABASE_URI``, default an in-memory SQLite)."""
    app = Flask("shop")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get("SHOP_DATABASE_URI", "sqlite://"),
        ASYNQ_REDIS_URL=os.environ.get("ASYNQ_REDIS_URL"),
        ASYNQ_CONCURRENCY=2,
        ASYNQ_SHUTDOWN_TIMEOUT=1,
        ASYNQ_TASK_CHECK_INTERVAL=0.2,
        ASYNQ_SCHEDULER="tests.flask_adapter.shop:make_scheduler",
    )
    app.config.update(config)
    db.init_app(app)
    asynq.init_app(app)

    @app.teardown_appcontext
    def count_teardown(exc: BaseException | None) -> None:
        teardowns[app.name] = teardowns.get(app.name, 0) + 1

    @app.post("/signup/<name>")
    def signup(name: str) -> Any:
        """Adds a user and welcomes them once the row is committed; ``?fail=1`` rolls back
        after the enqueue, ``?savepoint=1`` enqueues inside a savepoint that rolls back."""
        user = User(name=name)
        db.session.add(user)
        db.session.flush()
        asynq.enqueue_on_commit(welcome, user.id)
        if request.args.get("savepoint"):
            with db.session.begin_nested() as nested:
                asynq.enqueue_on_commit(read_name, user.id)
                nested.rollback()
        if request.args.get("fail"):
            db.session.rollback()
            return {"id": None}, 500
        db.session.commit()
        return {"id": user.id}

    with app.app_context():
        db.create_all()
    return app


def create_bare_app() -> Flask:
    """An app that never registered the extension: no worker can run it."""
    return Flask("bare")
