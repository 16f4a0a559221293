"""Server-wide hooks around every handler (``Config.task_wrapper``, ``Config.thread_wrapper``)
and the context variables plain ``def`` handlers see, on a real server and Redis."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import asynq
from asynq.servemux import call_handler
from tests.helpers.waiting import wait_until
from tests.server.conftest import read_msg, state

Q = "default"

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


class Journal:
    """What happened, in order, and in which thread."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.threads: dict[str, str] = {}
        self.exits: dict[str, type[BaseException] | None] = {}

    def note(self, event: str) -> None:
        self.events.append(event)
        self.threads[event] = threading.current_thread().name

    @contextlib.contextmanager
    def around(self, name: str) -> Iterator[None]:
        """Note ``<name> enter``/``<name> exit`` and the exception the body raised, if any."""
        self.note(f"{name} enter")
        try:
            yield
        except BaseException as exc:
            self.exits[name] = type(exc)
            raise
        else:
            self.exits[name] = None
        finally:
            self.note(f"{name} exit")

    @contextlib.contextmanager
    def task_wrapper(self, task: asynq.Task) -> Iterator[None]:
        with self.around("task"):
            token = request_id.set(f"req-{task.id}")
            try:
                yield
            finally:
                request_id.reset(token)

    def thread_wrapper(self, task: asynq.Task) -> contextlib.AbstractContextManager[None]:
        return self.around("thread")


def retry_error(r: Any, task_id: str) -> str:
    assert state(r, Q, task_id) == "retry"
    return read_msg(r, Q, task_id).error_msg


@pytest.fixture
def journal() -> Journal:
    return Journal()


async def start_with_hooks(start_server: Any, handler: Any, journal: Journal, **config: Any):
    config.setdefault("task_wrapper", journal.task_wrapper)
    config.setdefault("thread_wrapper", journal.thread_wrapper)
    return await start_server(handler, retry_delay_func=lambda *a: 100, **config)


async def test_order_around_a_def_handler_in_a_mux(start_server, client, r, journal):
    mux = asynq.ServeMux()

    def middleware(next_handler: Any) -> Any:
        async def wrapper(task: asynq.Task) -> None:
            journal.note("middleware enter")
            try:
                await call_handler(next_handler, task)
            finally:
                journal.note("middleware exit")

        return wrapper

    @mux.task("sync")
    def handler(task: asynq.Task) -> None:
        journal.note("handler")

    mux.use(middleware)
    await start_with_hooks(start_server, mux, journal)
    info = client.enqueue(asynq.Task("sync", b""))
    await wait_until(lambda: "task exit" in journal.events)
    assert journal.events == [
        "task enter",
        "middleware enter",
        "thread enter",
        "handler",
        "thread exit",
        "middleware exit",
        "task exit",
    ]
    # The thread wrapper runs in the very thread that runs the handler, not on the loop.
    loop_thread = journal.threads["task enter"]
    assert journal.threads["thread enter"] == journal.threads["handler"]
    assert journal.threads["thread exit"] == journal.threads["handler"]
    assert journal.threads["handler"] != loop_thread
    await wait_until(lambda: state(r, Q, info.id) is None)  # done and deleted


class ObjectHandler:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def process_task(self, task: asynq.Task) -> None:
        self.journal.note("handler")


def registry_handler(journal: Journal) -> asynq.TaskRegistry:
    registry = asynq.TaskRegistry()

    @registry.task("sync")
    def run() -> None:
        journal.note("handler")

    return registry


@pytest.mark.parametrize("kind", ["function", "object", "registry"])
async def test_every_kind_of_handler_runs_inside_both_wrappers(start_server, client, journal, kind):
    handlers = {
        "function": lambda task: journal.note("handler"),
        "object": ObjectHandler(journal),
        "registry": registry_handler(journal),
    }
    await start_with_hooks(start_server, handlers[kind], journal)
    client.enqueue(asynq.Task("sync", b""))
    await wait_until(lambda: "task exit" in journal.events)
    assert journal.events == ["task enter", "thread enter", "handler", "thread exit", "task exit"]
    assert journal.threads["thread enter"] == journal.threads["handler"]


async def test_async_wrapper_and_async_handler(start_server, client, journal):
    @contextlib.asynccontextmanager
    async def around(task: asynq.Task) -> AsyncIterator[None]:
        journal.note("task enter")
        yield
        journal.note("task exit")

    async def handler(task: asynq.Task) -> None:
        journal.note("handler")

    await start_with_hooks(start_server, handler, journal, task_wrapper=around)
    client.enqueue(asynq.Task("async", b""))
    await wait_until(lambda: "task exit" in journal.events)
    # No thread, so no thread wrapper.
    assert journal.events == ["task enter", "handler", "task exit"]


async def test_handler_errors_pass_through_both_exits(start_server, client, r, journal):
    def handler(task: asynq.Task) -> None:
        raise KeyError("no such user")

    await start_with_hooks(start_server, handler, journal)
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert journal.exits == {"thread": KeyError, "task": KeyError}
    assert retry_error(r, info.id) == "'no such user'"  # the handler's error, untouched


class Swallow:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> bool:
        return True


async def test_a_wrapper_cannot_swallow_the_handlers_error(start_server, client, r, journal):
    def handler(task: asynq.Task) -> None:
        raise KeyError("still failed")

    await start_with_hooks(
        start_server,
        handler,
        journal,
        task_wrapper=lambda task: Swallow(),
        thread_wrapper=lambda task: Swallow(),
    )
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert retry_error(r, info.id) == "'still failed'"


class Broken:
    """A context manager whose ``__enter__`` or ``__exit__`` raises."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        if self.where == "enter":
            raise ConnectionError("database is down")

    def __exit__(self, *exc_info: object) -> None:
        if self.where == "exit":
            raise ConnectionError("cannot close")


@pytest.mark.parametrize(
    ("hook", "where", "message"),
    [
        ("task_wrapper", "enter", "database is down"),
        ("task_wrapper", "exit", "cannot close"),
        ("thread_wrapper", "enter", "database is down"),
        ("thread_wrapper", "exit", "cannot close"),
    ],
)
async def test_a_failing_hook_fails_the_task_and_the_worker_goes_on(
    start_server, client, r, journal, hook, where, message
):
    ran: list[str] = []

    def handler(task: asynq.Task) -> None:
        ran.append(task.type)

    def broken_for_bad_tasks(task: asynq.Task) -> Any:
        return Broken(where) if task.type == "bad" else contextlib.nullcontext()

    await start_with_hooks(start_server, handler, journal, **{hook: broken_for_bad_tasks})
    bad = client.enqueue(asynq.Task("bad", b""))
    await wait_until(lambda: state(r, Q, bad.id) == "retry")
    assert retry_error(r, bad.id) == f"asynq: {hook} failed: ConnectionError: {message}"
    # The handler ran only if the hook's __enter__ went through.
    assert ran == ([] if where == "enter" else ["bad"])
    good = client.enqueue(asynq.Task("good", b""))
    await wait_until(lambda: "good" in ran)
    await wait_until(lambda: state(r, Q, good.id) is None)


async def test_def_handlers_see_a_copy_of_the_callers_context(start_server, client, r, journal):
    """Set in the task wrapper or a middleware: visible in the def handler. Set in the
    handler (or the thread wrapper): gone once the handler returns."""
    mux = asynq.ServeMux()
    attempt: contextvars.ContextVar[str] = contextvars.ContextVar("attempt", default="unset")
    seen: dict[str, str] = {}

    def middleware(next_handler: Any) -> Any:
        async def wrapper(task: asynq.Task) -> None:
            attempt.set("first")
            await call_handler(next_handler, task)
            seen["request after"] = request_id.get()
            seen["attempt after"] = attempt.get()

        return wrapper

    @mux.task("t")
    def handler(task: asynq.Task) -> None:
        seen["request in handler"] = request_id.get()
        seen["attempt in handler"] = attempt.get()
        request_id.set("changed by the handler")
        attempt.set("changed by the handler")

    mux.use(middleware)
    await start_with_hooks(start_server, mux, journal)
    info = client.enqueue(asynq.Task("t", b""))
    await wait_until(lambda: "task exit" in journal.events)
    assert seen == {
        "request in handler": f"req-{info.id}",
        "attempt in handler": "first",
        "request after": f"req-{info.id}",
        "attempt after": "first",
    }


def test_config_refuses_a_wrapper_that_is_not_callable() -> None:
    with pytest.raises(asynq.ValidationError, match="task_wrapper must be a callable"):
        asynq.Config(task_wrapper=contextlib.nullcontext())  # type: ignore[arg-type]
    with pytest.raises(asynq.ValidationError, match="thread_wrapper must be a callable"):
        asynq.Config(thread_wrapper="not.a.callable.object")  # type: ignore[arg-type]
