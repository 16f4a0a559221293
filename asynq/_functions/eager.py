"""Eager mode: enqueueing a task function runs it at once, in this process, without Redis.

Meant for tests. Switched on by :func:`eager` (a context manager) or by ``ASYNQ_EAGER=1`` in
the environment. The task still makes the whole trip a worker would see — arguments encoded
to the JSON payload, options checked as an enqueue checks them, the payload decoded back to
the annotated types, the return value stored as JSON — so a test meets the same errors a real
worker would. What is left out is Redis: no queue, no retry, no schedule (``enqueue_in`` and
``enqueue_at`` run the task now), no uniqueness lock.

Outcome: on success the enqueue returns a ``TaskInfo`` in state ``COMPLETED`` with the stored
result; when the function raises (or its arguments do not decode), the enqueue raises that
same exception, as Celery's ``task_eager_propagates`` does, so a failing task fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from asynq._base.clock import SYSTEM_CLOCK
from asynq._options import compose
from asynq._task import Task, TaskInfo, TaskState
from asynq.servemux import Handler
from asynq.server._inprocess import run_handler

__all__ = ["eager", "eager_result", "is_eager", "run_eagerly", "run_eagerly_sync"]

#: The environment switch: ``ASYNQ_EAGER=1`` makes every task function eager.
ENV_SWITCH = "ASYNQ_EAGER"
_TRUE = frozenset({"1", "true", "yes", "on"})
#: How many eager runs :func:`eager_result` remembers when eager mode comes from the
#: environment (a ``with eager()`` block forgets its runs when it ends).
_REMEMBERED = 1000

_lock = threading.Lock()
_depth = 0
_infos: OrderedDict[str, TaskInfo] = OrderedDict()


@contextlib.contextmanager
def eager() -> Iterator[None]:
    """Run task functions at once, in-process, while the block runs (all threads).

    ::

        def test_signup(client):
            with asynq.eager():
                info = send_welcome.enqueue(user_id=42)
            assert info.state is asynq.TaskState.COMPLETED

    As a pytest fixture::

        @pytest.fixture
        def eager_tasks():
            with asynq.eager():
                yield

    Blocks nest. ``enqueue*`` and ``aenqueue*`` then return a completed ``TaskInfo`` or raise
    what the function raised; ``result(task_id)`` reads the results of these runs.
    """
    global _depth
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _infos.clear()


def is_eager() -> bool:
    """Whether task functions run eagerly now (:func:`eager` or ``ASYNQ_EAGER``)."""
    return _depth > 0 or os.environ.get(ENV_SWITCH, "").strip().lower() in _TRUE


def eager_result(task_id: str) -> TaskInfo | None:
    """The info of an eager run of this eager period, or ``None``."""
    with _lock:
        return _infos.get(task_id)


def _remember(info: TaskInfo) -> None:
    with _lock:
        _infos[info.id] = info
        while len(_infos) > _REMEMBERED:
            _infos.popitem(last=False)


async def run_eagerly(handler: Handler, task: Task, opts: dict[str, Any]) -> TaskInfo:
    """Run ``handler`` on ``task`` now; return the completed info or raise its error.

    Raises:
        ValidationError: an option is invalid (as the enqueue would have raised).
        Exception: whatever the handler raised.
    """
    now = SYSTEM_CLOCK.now()
    composed = compose(task, opts, now, now)
    msg = composed.msg
    timeout = float(msg.timeout) if msg.timeout > 0 else max(msg.deadline - now, 0.0)
    run = await run_handler(
        handler,
        Task(msg.type, msg.payload, headers=msg.headers),
        task_id=msg.id,
        queue=msg.queue,
        max_retry=msg.retry,
        timeout=timeout,
    )
    if run.error is not None:
        raise run.error
    info = TaskInfo.from_message(msg, TaskState.COMPLETED, result=run.result)
    info = dataclasses.replace(info, completed_at=datetime.now(UTC))
    _remember(info)
    return info


def run_eagerly_sync(handler: Handler, task: Task, opts: dict[str, Any]) -> TaskInfo:
    """:func:`run_eagerly` for blocking callers, also on a thread that runs an event loop."""
    coro: Coroutine[Any, Any, TaskInfo] = run_eagerly(handler, task, opts)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A blocking enqueue called from async code: the loop of this thread is busy running the
    # caller, so the task runs on a loop of its own in another thread.
    with ThreadPoolExecutor(1, thread_name_prefix="asynq-eager") as pool:
        return pool.submit(asyncio.run, coro).result()
