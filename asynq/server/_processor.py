"""Dequeues tasks and runs them through the handler (Go's ``processor``).

The fetch loop keeps at most ``concurrency`` tasks in flight. With ``n`` slots free it takes
up to ``n`` tasks in one script call from the first queue of the weighted order that has any,
then from the next queues while slots remain. When every queue is empty it waits for a
publish on a pending channel (tasks enqueued by this library), a waiter's signal that a
pending list has tasks (whoever enqueued them, see :mod:`asynq.server._waiter`) or a jittered
poll interval, whichever comes first. With direct handoff
(:mod:`asynq.server._handoff`) each dequeue that leaves a slot free also registers the worker,
and a task handed over by an enqueue starts as soon as its message arrives.

Each task runs in its own asyncio task and ends with the first of: the handler returns or
raises, the deadline passes, a cancel message arrives, the heartbeat finds the lease expired,
or shutdown aborts it. The outcome is written to Redis only while the local lease is valid
(after that the recoverer owns the task); a failed write goes to the syncer.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import math
import random
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, NamedTuple

from google.protobuf.message import DecodeError

from asynq import tracing
from asynq._base.clock import Clock
from asynq._base.codec import TaskMessage, decode_message
from asynq._base.wrapping import TaskWrapper, ThreadWrapper, run_wrapped_async
from asynq._broker.calls import Script
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq.errors import (
    AsynqError,
    HandlerNotFoundError,
    LeaseExpiredError,
    RevokeTask,
    SkipRetry,
    TaskCanceledError,
    TaskDeadlineExceededError,
)
from asynq.servemux import Handler, call_handler, handler_executor, handler_thread_wrapper
from asynq.server import _damaged as damaged
from asynq.server._active_task import ActiveTask, ResultWriter, TaskContext
from asynq.server._config import (
    ErrorHandler,
    IsFailureFunc,
    RetryDelayFunc,
    counts_as_failure,
    retry_delay,
)
from asynq.server._handoff import Handoff
from asynq.server._lease import Lease
from asynq.server._queues import QueueSelector
from asynq.server._syncer import Syncer, SyncRequest
from asynq.server._workers import Interrupt, Worker, WorkerRegistry
from asynq.server._writer import OutcomeWriter

#: Go's ``defaultTimeout``: used when a message has neither timeout nor deadline.
DEFAULT_TIMEOUT = 1800.0
#: Go rate-limits dequeue error logs to one per 3 s.
ERROR_LOG_INTERVAL = 3.0

_INTERRUPT_ERRORS: dict[Interrupt, Callable[[], AsynqError]] = {
    Interrupt.DEADLINE: TaskDeadlineExceededError,
    Interrupt.CANCELED: TaskCanceledError,
    Interrupt.LEASE_EXPIRED: LeaseExpiredError,
}


def error_text(exc: BaseException) -> str:
    """The ``error_msg`` stored for ``exc``: ``str(exc)`` like Go's ``err.Error()``.

    An exception with no message is recorded by its class name rather than as ``""``, and
    ``SystemExit`` / ``KeyboardInterrupt`` always by it (``SystemExit: 3``, not ``3``).
    """
    if not isinstance(exc, Exception):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc) or type(exc).__name__


class HandlerExit(Exception):
    """Carries a ``SystemExit`` or ``KeyboardInterrupt`` a handler raised (see
    :meth:`Processor._handle`); the task fails with :attr:`raised`."""

    def __init__(self, raised: SystemExit | KeyboardInterrupt) -> None:
        super().__init__(error_text(raised))
        self.raised = raised


def decode_or_log(data: bytes, log: logging.Logger, where: str) -> TaskMessage | None:
    """Decode a task message; log and return ``None`` if it is corrupt (it then stays active
    until its lease expires, and the recoverer archives it). ``where`` says where it came
    from, for the log."""
    try:
        return decode_message(data)
    except DecodeError as exc:
        log.error("cannot decode a task message %s: %s", where, exc)
        return None


def compute_deadline(msg: TaskMessage, now: float) -> float | None:
    """Go's ``computeDeadline`` (Unix seconds); ``None`` when the message sets neither."""
    if msg.timeout == 0 and msg.deadline == 0:
        return None
    if msg.timeout != 0 and msg.deadline != 0:
        return float(min(math.floor(now) + msg.timeout, msg.deadline))
    if msg.timeout != 0:
        return now + msg.timeout
    return float(msg.deadline)


class ReadFailure(NamedTuple):
    """A queue the fetch loop could not read in a dequeue round, and why."""

    queue: str
    error: Exception


class Processor:
    """The fetch loop and the per-task workers."""

    def __init__(
        self,
        *,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        handler: Handler,
        queues: QueueSelector,
        concurrency: int,
        task_check_interval: float,
        shutdown_timeout: float,
        retry_delay_func: RetryDelayFunc,
        is_failure: IsFailureFunc,
        error_handler: ErrorHandler | None,
        registry: WorkerRegistry,
        syncer: Syncer,
        executor: Executor,
        handoff: Handoff | None = None,
        task_wrapper: TaskWrapper | None = None,
        thread_wrapper: ThreadWrapper | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._driver = driver
        self._clock = clock
        self._log = logger
        self._handler = handler
        self._queues = queues
        self._concurrency = concurrency
        self._check_interval = task_check_interval
        self._shutdown_timeout = shutdown_timeout
        self._retry_delay = retry_delay_func
        self._is_failure = is_failure
        self._error_handler = error_handler
        self._registry = registry
        self._syncer = syncer
        self._executor = executor
        self._handoff = handoff
        self._task_wrapper = task_wrapper
        self._thread_wrapper = thread_wrapper
        #: Handed-off tasks being given back to their queue (no free slot, or stopping).
        self._returning: set[asyncio.Task[None]] = set()
        self._rng = rng or random.Random()
        self._writer = OutcomeWriter(driver)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._runners: set[asyncio.Task[None]] = set()
        self._kick = asyncio.Event()
        #: Queues announced (by an enqueue's wake-up message) while this worker sat idle.
        self._announced: set[str] = set()
        self._idle_waiting = False
        #: Idle periods so far, and the future of the next one (see :meth:`wait_idle`).
        self._idle_round = 0
        self._next_idle: asyncio.Future[int] | None = None
        #: The last queue read that failed in the current dequeue round, and in the latest
        #: idle round (see :attr:`idle_failure`).
        self._round_failure: ReadFailure | None = None
        self._idle_failure: ReadFailure | None = None
        #: Tasks dequeued so far, by queue (see :mod:`asynq.server._waiter`).
        self._taken: dict[str, int] = {}
        #: Tasks started so far, dequeued or handed over (see :mod:`asynq.server._burst`).
        self._started = 0
        self._stopping = False
        self._fetching_done = asyncio.Event()
        self._fetching = False
        self._last_error_log = -math.inf

    # -- fetch loop ---------------------------------------------------------------------------

    def wake(self, queue: str | None = None) -> None:
        """Tasks may be pending (in ``queue``, when known): poll now, not after the idle wait."""
        if queue is not None and self._idle_waiting:
            self._announced.add(queue)
        self._kick.set()

    @property
    def idle_round(self) -> int:
        """How many times the fetch loop has gone idle (every queue empty) so far."""
        return self._idle_round

    @property
    def idle_failure(self) -> ReadFailure | None:
        """Why the latest idle round may have missed pending tasks: the last queue read that
        failed in it. ``None`` when every queue was read and found without a pending task."""
        return self._idle_failure

    async def wait_idle(self, after: int | None = None) -> int:
        """Wait until the fetch loop is idle, in a round later than ``after`` if given; return
        that round."""
        if self._idle_waiting and (after is None or self._idle_round > after):
            return self._idle_round
        if self._next_idle is None:
            self._next_idle = asyncio.get_running_loop().create_future()
        # Shielded: one waiter cancelled must not cancel the future the others share.
        return await asyncio.shield(self._next_idle)

    def taken_from(self, queue: str) -> int:
        """How many tasks the fetch loop has dequeued from ``queue`` so far."""
        return self._taken.get(queue, 0)

    @property
    def started(self) -> int:
        """How many tasks this processor has started so far (dequeued or handed over)."""
        return self._started

    def stop(self) -> None:
        """Stop taking new tasks (tasks in flight continue)."""
        self._stopping = True
        self._kick.set()

    async def run(self) -> None:
        """Fetch tasks until :meth:`stop`."""
        self._fetching = True
        try:
            while not self._stopping:
                self._kick.clear()
                free = self._concurrency - len(self._in_flight)
                if free <= 0:
                    await self._kick.wait()
                    continue
                taken = await self._dequeue(free)
                if not taken:
                    # Go retries at once after an error; the pause keeps an outage from spinning.
                    await self._idle()
                    continue
                for msg, lease_expiry in taken:
                    self._start(msg, lease_expiry)
                # Let the new handlers start before the next (usually empty) dequeue goes out.
                await asyncio.sleep(0)
        finally:
            try:
                await self._withdraw_handoff()
            finally:
                self._fetching_done.set()

    async def _withdraw_handoff(self) -> None:
        if self._handoff is None:
            return
        try:
            await self._driver.run(
                server_ops.withdraw_handoff(self._queues.names, self._handoff.channel)
            )
        except AsynqError as exc:
            # Harmless: the registrations lapse by themselves, and a task handed over now is
            # given back to its queue (see receive_handoff).
            self._log.warning("Could not withdraw from direct handoff: %s", exc)

    async def _dequeue(self, count: int) -> list[tuple[TaskMessage, float]]:
        """Take up to ``count`` tasks, queue after queue in this attempt's order.

        Each queue is tried on its own: an error in one (a foreign value at one of its keys, a
        Cluster node down, an ACL that denies it) is logged and the next queue is tried, so the
        tasks already moved to active from the others are never dropped. A damaged task taken
        is archived or released (:mod:`asynq.server._damaged`), not started.
        """
        taken: list[tuple[TaskMessage, float]] = []
        order = self._queues.order()
        if self._announced:
            # Every queue was empty when the worker went idle, so the queues announced since are
            # the ones worth the first round trips; among them, and for the rest, the weighted
            # (or strict) order stands. Only idle wake-ups count: a busy worker keeps Go's order.
            order = [q for q in order if q in self._announced] + [
                q for q in order if q not in self._announced
            ]
            self._announced.clear()
        handoff = None if self._handoff is None else self._handoff.registration()
        self._round_failure = None
        for qname in order:
            now = self._clock.now()
            wanted = count - len(taken)
            try:
                found = await self._driver.run(server_ops.dequeue(qname, wanted, now, handoff))
            except Exception as exc:  # Redis down, or this queue's keys unusable
                self._log_dequeue_error(qname, exc)
                self._round_failure = ReadFailure(qname, exc)
                continue
            lease_expiry = now + server_ops.LEASE_DURATION
            if found:
                self._taken[qname] = self._taken.get(qname, 0) + len(found)
            for item in found:
                checked = damaged.inspect(qname, item)
                if isinstance(checked, damaged.Damage):
                    await damaged.dispose(self._driver, self._log, checked, self._clock.now())
                else:
                    taken.append((checked, lease_expiry))
            if len(taken) >= count:
                break
        return taken

    async def _idle(self) -> None:
        # Go sleeps uniform [0.5, 1.5) x TaskCheckInterval. The jitter keeps many workers from
        # polling in lockstep; capping it at 1 x means a task enqueued by Go (which sends no
        # wake-up message) is found within the task check interval even without the waiters.
        delay = self._check_interval * (0.5 + self._rng.random() / 2)
        # A timer that sets the event costs less than wait_for's extra task on the wake path.
        timer = asyncio.get_running_loop().call_later(delay, self._kick.set)
        self._announced.clear()
        self._idle_waiting = True
        self._idle_round += 1
        self._idle_failure = self._round_failure
        if self._next_idle is not None:
            self._next_idle.set_result(self._idle_round)
            self._next_idle = None
        try:
            await self._kick.wait()
        finally:
            self._idle_waiting = False
            timer.cancel()

    def receive_handoff(self, data: bytes) -> None:
        """Start a task an enqueue handed to this worker (already active and leased in Redis).

        Without a free slot, or once fetching has stopped, it goes back to the head of its
        queue for any worker to take, exactly as a requeue at shutdown does.
        """
        msg = decode_or_log(data, self._log, "handed off to this worker")
        if msg is None:
            return
        if self._stopping or len(self._in_flight) >= self._concurrency:
            giving_back = asyncio.create_task(self._push_back(msg), name=f"asynq-return-{msg.id}")
            self._returning.add(giving_back)
            giving_back.add_done_callback(self._returning.discard)
            return
        self._start(msg, self._clock.now() + server_ops.LEASE_DURATION)
        # The next dequeue registers the worker again. Set the kick a step later so the
        # handler's first step is queued ahead of that dequeue: it starts first.
        asyncio.get_running_loop().call_soon(self._kick.set)

    def _log_dequeue_error(self, qname: str, exc: Exception) -> None:
        now = self._clock.now()
        if now - self._last_error_log >= ERROR_LOG_INTERVAL:
            self._last_error_log = now
            self._log.error("Dequeue error in queue %r: %s", qname, exc)

    # -- one task -----------------------------------------------------------------------------

    def _start(self, msg: TaskMessage, lease_expiry: float) -> None:
        now = self._clock.now()
        deadline = compute_deadline(msg, now)
        if deadline is None:
            self._log.error(
                "asynq: internal error: both timeout and deadline are not set for the task "
                "message: %s",
                msg.id,
            )
            deadline = now + DEFAULT_TIMEOUT
        worker = Worker(
            msg=msg,
            started_ns=self._clock.now_ns(),
            lease=Lease(lease_expiry, self._clock),
            context=TaskContext(deadline, self._clock),
        )
        self._registry.add(worker)
        self._started += 1
        active = self._active_task(worker)
        # The handler's task is created before the one that waits for its outcome, so the
        # handler starts on the loop's very next step. A deadline already past runs nothing.
        launched = None if worker.context.err is not None else self._launch(worker, active)
        task = asyncio.create_task(
            self._work(worker, active, launched), name=f"asynq-task-{msg.id}"
        )
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("worker crashed", exc_info=task.exception())
        self._kick.set()  # a slot is free

    def _active_task(self, worker: Worker) -> ActiveTask:
        msg = worker.msg

        async def write(data: bytes) -> int:
            return await self._driver.run(server_ops.write_result(msg.queue, msg.id, data))

        async def publish(data: bytes) -> None:
            await self._driver.run(server_ops.report_progress(msg.queue, msg.id, data))

        writer = ResultWriter(
            msg.id, worker.context, write, asyncio.get_running_loop(), publish=publish
        )
        return ActiveTask._create(msg, worker.context, writer)

    async def _work(
        self,
        worker: Worker,
        task: ActiveTask,
        launched: tuple[asyncio.Task[None], asyncio.TimerHandle] | None,
    ) -> None:
        try:
            if launched is None:  # the deadline passed before it started
                worker.context.end(worker.context.err)
                await self._failed(worker, task, TaskDeadlineExceededError(), raised=False)
                return
            runner, timer = launched
            try:
                why = await worker.interrupted
            finally:
                timer.cancel()
            if why is Interrupt.FINISHED:
                worker.context.end()
                exc = TaskCanceledError() if runner.cancelled() else runner.exception()
                if isinstance(exc, HandlerExit):
                    exc = exc.raised  # the task fails with what the handler raised
                if exc is None:
                    await self._succeeded(worker)
                else:
                    await self._failed(worker, task, exc)
                return
            runner.cancel()
            if why is Interrupt.ABORT:
                worker.context.end(TaskCanceledError())
                self._log.warning("Quitting worker. task id=%s", worker.id)
                await self._requeue(worker)
                return
            error = _INTERRUPT_ERRORS[why]()
            # A lost lease cancels the context ("context canceled") but fails the task with
            # ErrLeaseExpired; otherwise both are the same error.
            worker.context.end(TaskCanceledError() if why is Interrupt.LEASE_EXPIRED else error)
            await self._failed(worker, task, error, raised=False)
        finally:
            self._registry.remove(worker)

    def _launch(
        self, worker: Worker, task: ActiveTask
    ) -> tuple[asyncio.Task[None], asyncio.TimerHandle]:
        """Start the handler in its own asyncio task, and the timer of its deadline."""
        ctx = contextvars.copy_context()
        ctx.run(handler_executor.set, self._executor)
        if self._thread_wrapper is not None:
            ctx.run(handler_thread_wrapper.set, self._thread_wrapper)
        runner = asyncio.create_task(
            self._handle(task), name=f"asynq-handler-{worker.id}", context=ctx
        )
        self._runners.add(runner)
        runner.add_done_callback(self._runner_done)
        runner.add_done_callback(lambda _: worker.interrupt(Interrupt.FINISHED))
        timer = asyncio.get_running_loop().call_later(
            max(worker.context.deadline - self._clock.now(), 0.0),
            worker.interrupt,
            Interrupt.DEADLINE,
        )
        return runner, timer

    async def _handle(self, task: ActiveTask) -> None:
        """The handler's run on ``task``, inside the task wrapper when there is one, inside
        the task's span when it carries a trace context (see :mod:`asynq.tracing`).

        ``SystemExit`` and ``KeyboardInterrupt`` raised by the handler (``sys.exit()`` in a
        task, or raised in its thread) are handed on wrapped in :class:`HandlerExit`: raised
        from an asyncio task as they are, they would stop the event loop and the whole worker,
        and the task, left active, would do the same to the next worker after its lease.
        """
        if self._task_wrapper is None:
            run = call_handler(self._handler, task)
        else:
            run = run_wrapped_async(
                "task_wrapper", self._task_wrapper, task, lambda: call_handler(self._handler, task)
            )
        if tracing.traced(task.headers):
            run = _in_span(task, run)
        try:
            await run
        except (SystemExit, KeyboardInterrupt) as exc:
            raise HandlerExit(exc) from exc

    def _runner_done(self, runner: asyncio.Task[None]) -> None:
        self._runners.discard(runner)
        if not runner.cancelled():
            runner.exception()  # retrieved here so an abandoned handler's error is not logged

    # -- outcomes -----------------------------------------------------------------------------

    async def _succeeded(self, worker: Worker) -> None:
        msg = worker.msg
        if msg.retention > 0:
            await self._write(
                worker,
                lambda now: server_ops.mark_as_complete_call(msg, now),
                f"Could not move task id={msg.id} type={msg.type!r} to completed",
            )
        else:
            await self._write(
                worker,
                lambda now: server_ops.done_call(msg, now),
                f"Could not remove task id={msg.id} type={msg.type!r} from active",
            )

    async def _failed(
        self, worker: Worker, task: ActiveTask, exc: BaseException, *, raised: bool = True
    ) -> None:
        msg = worker.msg
        self._log_failure(msg, exc, raised)
        if self._error_handler is not None:
            await self._call_error_handler(task, exc)
        text = error_text(exc)
        if isinstance(exc, RevokeTask):
            self._log.warning("revoke task id=%s", msg.id)
            await self._write(
                worker,
                lambda now: server_ops.done_call(msg, now),
                f"Could not remove task id={msg.id} type={msg.type!r} from active",
            )
        elif msg.retried >= msg.retry or isinstance(exc, SkipRetry):
            self._log.warning("Retry exhausted for task id=%s", msg.id)
            await self._write(
                worker,
                lambda now: server_ops.archive_call(msg, text, now),
                f"Could not move task id={msg.id} from active to archived",
            )
        elif worker.lease.is_valid():
            retry_at = self._clock.now() + self._delay(msg, exc, task)
            is_failure = self._failure(exc)
            await self._write(
                worker,
                lambda now: server_ops.retry_call(msg, retry_at, text, is_failure, now),
                f"Could not move task id={msg.id} from active to retry",
            )

    def _delay(self, msg: TaskMessage, exc: BaseException, task: ActiveTask) -> float:
        return retry_delay(self._retry_delay, msg.retried, exc, task, self._log)

    def _failure(self, exc: BaseException) -> bool:
        return counts_as_failure(self._is_failure, exc, self._log)

    def _log_failure(self, msg: TaskMessage, exc: BaseException, raised: bool) -> None:
        # Tracebacks only for errors raised by handler code; signals and interrupts need none.
        if not raised or isinstance(exc, SkipRetry | RevokeTask | HandlerNotFoundError):
            self._log.warning("task id=%s type=%r failed: %s", msg.id, msg.type, exc)
        else:
            self._log.error(
                "task id=%s type=%r failed: %s", msg.id, msg.type, error_text(exc), exc_info=exc
            )

    async def _call_error_handler(self, task: ActiveTask, exc: BaseException) -> None:
        handler = self._error_handler
        assert handler is not None
        try:
            if inspect.iscoroutinefunction(handler):
                await handler(task, exc)
            else:
                loop = asyncio.get_running_loop()
                ctx = contextvars.copy_context()
                result = await loop.run_in_executor(self._executor, ctx.run, handler, task, exc)
                if inspect.isawaitable(result):
                    await result
        except (Exception, SystemExit, KeyboardInterrupt):  # as for handlers: never the worker
            self._log.exception("error handler failed for task id=%s", task.id)

    async def _write(
        self, worker: Worker, build: Callable[[float], Script], description: str
    ) -> None:
        if not worker.lease.is_valid():
            return  # the lease may belong to another worker now; the recoverer handles it
        try:
            await self._writer.write(build(self._clock.now()))
        except AsynqError as exc:
            self._log.warning("%s: %s; Will retry syncing", description, exc)
            self._syncer.add(
                SyncRequest(
                    make_op=lambda: server_ops.run_call(build(self._clock.now())),
                    description=description,
                    deadline=worker.lease.deadline,
                )
            )

    async def _requeue(self, worker: Worker) -> None:
        if worker.lease.is_valid():
            await self._push_back(worker.msg)

    async def _push_back(self, msg: TaskMessage) -> None:
        """Requeue an active task at the head of its queue (Go's ``Requeue``). On failure it
        stays active, and the recoverer retries it once its lease expires."""
        try:
            await self._driver.run(server_ops.run_call(server_ops.requeue_call(msg)))
        except AsynqError as exc:
            self._log.error("Could not push task id=%s back to queue: %s", msg.id, exc)
        else:
            self._log.info("Pushed task id=%s back to queue", msg.id)

    # -- shutdown -----------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Tasks being processed (slots in use)."""
        return len(self._in_flight)

    async def shutdown(self) -> None:
        """Stop fetching, wait up to the shutdown timeout, then requeue what still runs."""
        self.stop()
        if self._fetching:
            await self._fetching_done.wait()
        if self._returning:
            await asyncio.wait(set(self._returning))
        if not self._in_flight:
            return
        self._log.info("Waiting for all workers to finish...")
        _, pending = await asyncio.wait(set(self._in_flight), timeout=self._shutdown_timeout)
        if pending:
            self.abort()
            await asyncio.wait(pending)
        self._log.info("All workers have finished")

    def abort(self) -> None:
        """Give up on every task in flight now: each is requeued (Go's shutdown-timeout abort)."""
        for worker in self._registry:
            worker.interrupt(Interrupt.ABORT)

    def release_handlers(self) -> None:
        """Cancel handler tasks still running after shutdown (their outcome is already set)."""
        for runner in list(self._runners):
            runner.cancel()


async def _in_span(task: ActiveTask, run: Coroutine[Any, Any, None]) -> None:
    with tracing.task_span(task):
        await run
