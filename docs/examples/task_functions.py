"""Task functions: plain functions enqueued as tasks, and a worker running them.

Start a worker (the module's functions register in ``asynq.default_registry``)::

    ASYNQ_REDIS_URL=redis://localhost:6379/0 \\
        asynq worker task_functions:asynq.default_registry --app-dir docs/examples

then enqueue and wait for the report's result::

    ASYNQ_REDIS_URL=redis://localhost:6379/0 python docs/examples/task_functions.py

Run as a script this module is ``__main__``; the default task types still come out as
``task_functions.<function>``, the names the worker knows them by.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from datetime import date

import asynq

log = logging.getLogger("task_functions")


class Plan(enum.Enum):
    FREE = "free"
    PRO = "pro"


@dataclass
class User:
    id: int
    email: str
    plan: Plan = Plan.FREE


@asynq.task("email:welcome", queue="critical", max_retry=5)
async def send_welcome(user: User, *, template: str = "default") -> None:
    """Arguments come back as their annotated types: here a User dataclass with a Plan."""
    task = asynq.current_task()
    log.info("welcome %s (%s, %s) attempt %d", user.email, user.plan, template, task.retry_count)


@asynq.task(retention=3600)  # keep the completed task, and so its result, for an hour
def build_report(month: date, rows: int = 100) -> dict[str, int]:
    """A plain function runs in the worker's thread pool; its return value is the result."""
    return {"year": month.year, "month": month.month, "rows": rows}


def main() -> None:
    send_welcome.enqueue(User(1, "ada@example.com", Plan.PRO), template="short")
    try:
        send_welcome.enqueue(User(2, "bob@example.com"), templat="x")  # type: ignore[call-arg]
    except asynq.ValidationError as exc:  # refused before it reaches Redis
        print(f"refused: {exc}")

    info = build_report.enqueue(date(2026, 11, 1), rows=123)
    print(f"enqueued {info.type} {info.id}")
    deadline = time.monotonic() + 30
    while True:
        try:
            print(f"report: {build_report.result(info)}")
            return
        except asynq.FailedPreconditionError:  # not completed yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    main()
