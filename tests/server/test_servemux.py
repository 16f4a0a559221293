"""ServeMux routing (Go's exact-then-longest-prefix rule) and middleware; no Redis needed."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading

import pytest

import asynq
from asynq.servemux import ServeMux, call_handler, is_async_handler


def task(type_: str) -> asynq.Task:
    return asynq.Task(type_, b"")


@pytest.mark.parametrize(
    ("task_type", "expected"),
    [
        pytest.param("email:send", "email:send", id="exact"),
        pytest.param("email:send:bulk", "email:send", id="longest-prefix"),
        pytest.param("email:welcome", "email:", id="shorter-prefix"),
        pytest.param("email", "email", id="exact-beats-prefix"),
        pytest.param("eta", "e", id="one-letter-prefix"),
        pytest.param("image:resize", "", id="no-match"),
    ],
)
def test_match(task_type: str, expected: str) -> None:
    mux = ServeMux()
    for pattern in ["email:", "email:send", "email", "e"]:
        mux.handle_func(pattern, lambda t: None)
    handler, pattern = mux.match(task_type)
    assert pattern == expected
    assert (handler is None) == (expected == "")


def test_registration_errors() -> None:
    mux = ServeMux()
    mux.handle_func("a", lambda t: None)
    with pytest.raises(asynq.ValidationError, match="multiple registrations for a"):
        mux.handle_func("a", lambda t: None)
    with pytest.raises(asynq.ValidationError, match="invalid pattern"):
        mux.handle("  ", lambda t: None)
    with pytest.raises(asynq.ValidationError):
        mux.handle("b", None)  # type: ignore[arg-type]


async def test_unknown_type_raises_handler_not_found() -> None:
    mux = ServeMux()
    with pytest.raises(asynq.HandlerNotFoundError) as info:
        await mux.process_task(task("nope"))
    assert str(info.value) == 'handler not found for task "nope"'


async def test_dispatch_sync_async_and_objects() -> None:
    mux = ServeMux()
    calls: list[tuple[str, bool]] = []

    @mux.task("async")
    async def run_async(t: asynq.Task) -> None:
        calls.append((t.type, threading.current_thread() is threading.main_thread()))

    def run_sync(t: asynq.Task) -> None:
        calls.append((t.type, threading.current_thread() is threading.main_thread()))

    class Obj:
        async def process_task(self, t: asynq.Task) -> None:
            calls.append((t.type, True))

    mux.handle_func("sync", run_sync)
    mux.handle("obj", Obj())
    inner = ServeMux()
    inner.handle_func("nested:", run_async)
    mux.handle("nested:", inner)
    for name in ["async", "sync", "obj", "nested:x"]:
        await mux.process_task(task(name))
    assert calls == [("async", True), ("sync", False), ("obj", True), ("nested:x", True)]
    assert run_async.__name__ == "run_async"  # the decorator returns the function


async def test_sync_handler_runs_with_copied_context() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []
    var.set("outer")
    await call_handler(lambda t: seen.append(var.get()), task("t"))
    assert seen == ["outer"]


def test_is_async_handler() -> None:
    async def a(t: object) -> None: ...

    def s(t: object) -> None: ...

    class CallableAsync:
        async def __call__(self, t: object) -> None: ...

    assert is_async_handler(a)
    assert is_async_handler(functools.partial(a))
    assert is_async_handler(CallableAsync())
    assert not is_async_handler(s)
    assert is_async_handler(ServeMux())


async def test_middleware_order_and_kinds() -> None:
    mux = ServeMux()
    log: list[str] = []

    def outer(next_handler):  # async wrapper around anything
        async def wrapper(t: asynq.Task) -> None:
            log.append("outer>")
            await call_handler(next_handler, t)
            log.append("<outer")

        return wrapper

    def inner(next_handler):  # sync wrapper around a sync handler
        def wrapper(t: asynq.Task) -> None:
            log.append("inner>")
            next_handler(t)
            log.append("<inner")

        return wrapper

    mux.use(outer, inner)
    mux.handle_func("t", lambda t: log.append("handler"))
    await mux.process_task(task("t"))
    assert log == ["outer>", "inner>", "handler", "<inner", "<outer"]


async def test_sync_middleware_can_return_async_result() -> None:
    mux = ServeMux()
    log: list[str] = []

    def passthrough(next_handler):
        def wrapper(t: asynq.Task):
            log.append("mw")
            return next_handler(t)  # a coroutine: awaited by the mux

        return wrapper

    @mux.task("t")
    async def handler(t: asynq.Task) -> None:
        await asyncio.sleep(0)
        log.append("handler")

    mux.use(passthrough)
    await mux.process_task(task("t"))
    assert log == ["mw", "handler"]


async def test_middleware_wraps_not_found_and_sees_errors() -> None:
    mux = ServeMux()
    errors: list[str] = []

    def catcher(next_handler):
        async def wrapper(t: asynq.Task) -> None:
            try:
                await call_handler(next_handler, t)
            except Exception as exc:
                errors.append(str(exc))
                raise

        return wrapper

    mux.use(catcher)
    with pytest.raises(asynq.HandlerNotFoundError):
        await mux.process_task(task("x"))
    assert errors == ['handler not found for task "x"']
    _, pattern = mux.handler(task("x"))
    assert pattern == ""
