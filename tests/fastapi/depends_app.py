"""Task functions taking FastAPI dependencies, as a user writes them, for test_fastapi_depends:
every kind of dependency FastAPI makes for a route, and a journal of what each did."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

import asynq
from asynq_fastapi import asynq_lifespan

#: What the dependencies and the tasks did, in order (the workers of these tests run in the
#: test process, on its loop or in the TestClient's thread).
journal: list[str] = []


@dataclass
class Settings:
    prefix: str
    made_for: str = ""


def get_settings() -> Settings:
    """A plain def dependency: run in a thread, as FastAPI does, with the task's context."""
    if threading.current_thread() is threading.main_thread():
        raise AssertionError("a plain def dependency must not run on the loop's thread")
    journal.append("settings")
    return Settings("order", made_for=asynq.current_task().id)


@dataclass
class Session:
    name: str
    task_id: str


async def get_session(
    settings: Annotated[Settings, Depends(get_settings)],
) -> AsyncIterator[Session]:
    """An async generator with a sub-dependency; sees the task's error at its yield."""
    journal.append("session open")
    try:
        yield Session(f"{settings.prefix}-db", asynq.current_task().id)
    except Exception as exc:
        journal.append(f"session saw {type(exc).__name__}: {exc}")
        raise
    finally:
        journal.append("session closed")


def get_audit() -> Iterator[list[str]]:
    """A plain generator: entered and closed in a thread."""
    journal.append("audit open")
    try:
        yield []
    finally:
        journal.append("audit closed")


class Mailer:
    """A class dependency (``Depends()`` on the annotation), itself depending on settings."""

    def __init__(self, settings: Settings = Depends(get_settings)) -> None:
        self.sender = f"{settings.prefix}@example.com"


tasks = asynq.TaskRegistry()

#: For ``python -m asynq_fastapi worker tests.fastapi.depends_app:app``.
app = FastAPI(lifespan=asynq_lifespan())


@tasks.task("deps:ship", retention=3600)
async def ship(
    order_id: int,
    db: Annotated[Session, Depends(get_session)],
    audit: list[str] = Depends(get_audit),
    settings: Settings = Depends(get_settings),
    mailer: Mailer = Depends(),
) -> str:
    journal.append("ship ran")
    if order_id < 0:
        raise ValueError(f"no such order {order_id}")
    assert db.task_id == settings.made_for == asynq.current_task().id  # made for this run
    return f"{settings.prefix} {order_id} in {db.name} from {mailer.sender}"


@tasks.task("deps:label", retention=3600)
def label(order_id: int, db: Session = Depends(get_session)) -> str:
    """A plain def task function: its async dependency is made on the loop, it runs in a
    handler thread."""
    journal.append("label ran")
    return f"label {order_id} in {db.name}"


async def get_unit_of_work() -> AsyncIterator[list[str]]:
    """A generator whose teardown fails, as a commit that fails does."""
    changes: list[str] = []
    yield changes
    raise RuntimeError(f"commit of {changes} failed")


@tasks.task("deps:save", retention=3600)
async def save(item: str, changes: list[str] = Depends(get_unit_of_work)) -> str:
    changes.append(item)
    journal.append("save ran")
    return "saved"
