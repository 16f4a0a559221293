"""asynq.testing runs handlers like the server does, without Redis."""

from __future__ import annotations

import asyncio
import threading

import asynq
from asynq.server import ActiveTask
from asynq.testing import run_handler, run_handler_sync

mux = asynq.ServeMux()
seen: list[str] = []


def tag(next_handler: asynq.servemux.Handler) -> asynq.servemux.Handler:
    async def wrapper(task: ActiveTask) -> None:
        seen.append(f"mw:{task.type}")
        await asynq.call_handler(next_handler, task)

    return wrapper


mux.use(tag)


@mux.task("image:resize")
def resize(task: ActiveTask) -> None:
    assert threading.current_thread() is not threading.main_thread()  # plain def: a thread
    task.result_writer.write(f"{task.json()['id']}:{task.retry_count}".encode())


@mux.task("email:")
async def email(task: ActiveTask) -> None:
    if task.headers.get("bounce"):
        raise asynq.SkipRetry("mailbox gone")
    await task.result_writer.write_async(task.queue.encode())


@mux.task("slow")
async def slow(task: ActiveTask) -> None:
    await asyncio.sleep(5)


def test_sync_handler_through_mux_and_middleware() -> None:
    seen.clear()
    run = run_handler_sync(mux, asynq.Task.from_json("image:resize", {"id": 7}), retry_count=2)
    assert run.error is None
    assert run.result == b"7:2"
    assert seen == ["mw:image:resize"]
    assert run.task.retry_count == 2 and run.task.max_retry == 25


async def test_async_handler_outcomes() -> None:
    ok = await run_handler(mux, asynq.Task("email:welcome"), queue="critical", task_id="t1")
    assert ok.error is None and ok.result == b"critical" and ok.task.id == "t1"
    bounced = await run_handler(mux, asynq.Task("email:welcome", headers={"bounce": "1"}))
    assert isinstance(bounced.error, asynq.SkipRetry)
    assert str(bounced.error) == "mailbox gone: skip retry for the task"
    missing = await run_handler(mux, asynq.Task("nope"))
    assert str(missing.error) == 'handler not found for task "nope"'


async def test_timeout_is_go_deadline_exceeded() -> None:
    run = await run_handler(mux, asynq.Task("slow"), timeout=0.05)
    assert isinstance(run.error, asynq.TaskDeadlineExceededError)
    assert str(run.error) == "context deadline exceeded"
    assert run.task.cancelled
