"""Producer clients: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio).

Both are thin shells over :class:`_ClientCore`, which composes messages, picks the script and
remembers which queues are registered; the only difference between the twins is ``await``, and
``Client`` is generated from ``AsyncClient`` (``scripts/gen_twins.py``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from asynq import tracing
from asynq._base.clock import SYSTEM_CLOCK, Clock
from asynq._broker.calls import Op
from asynq._broker.drivers import AsyncDriver, AsyncFacade, SyncDriver, SyncFacade
from asynq._broker.lane.coalesce import AsyncCoalescer
from asynq._broker.ops import client_ops
from asynq._fastcompose import (
    ComposeMemo,
    copy_info,
    fresh_info,
    info_base,
    new_task_id,
    new_task_ids,
)
from asynq._options import Composed, compose
from asynq._resolve import resolve_async, resolve_sync
from asynq._task import Duration, Instant, Task, TaskInfo
from asynq.connection import AsyncRedis, AsyncRedisLike, RedisLike, SyncRedis
from asynq.errors import AsynqError, BrokerConnectionError, ValidationError

if TYPE_CHECKING:
    from typing import Unpack

    from asynq._task import EnqueueOptions

__all__ = ["AsyncClient", "Client", "EnqueueManyError"]

#: Re-register a queue in ``asynq:queues`` this often. Go registers once per process and never
#: again, so a queue deleted by the Inspector stays invisible until the producer restarts
#: (docs/compatibility.md#quirk-queue-registered-once); refreshing rides along in the same
#: round trip as an enqueue, so it costs nothing.
QUEUE_REGISTRATION_TTL = 60.0

TaskSpec = Task | tuple[Task, "dict[str, Any]"]
T = TypeVar("T")


class EnqueueManyError(AsynqError):
    """Some tasks of an ``enqueue_many`` call were refused; the others were enqueued.

    Attributes:
        infos: the ``TaskInfo`` of each task, ``None`` where it failed.
        errors: the error of each task, ``None`` where it succeeded.
    """

    def __init__(self, infos: list[TaskInfo | None], errors: list[AsynqError | None]) -> None:
        failed = sum(e is not None for e in errors)
        super().__init__(f"{failed} of {len(errors)} tasks were not enqueued")
        self.infos = infos
        self.errors = errors


#: What one call writes, task by task: a composition, or a plain task to copy a memo
#: template for (with its id) while the calls are being sent.
Planned = Composed | tuple[Composed, Task, str]


class _Written:
    """The tasks one call writes, and their TaskInfos, built while Redis works: the drivers
    call :meth:`build` once the calls are sent (``meanwhile``); if they could not, the
    results build them afterwards."""

    __slots__ = ("infos", "now", "plan")

    def __init__(self, plan: list[Planned], now: float) -> None:
        self.plan = plan
        self.now = now
        self.infos: list[TaskInfo] | None = None

    def composed(self) -> Iterator[Composed]:
        """Each task's composition, copies made on the way (this is what gets streamed)."""
        now = self.now
        for item in self.plan:
            yield item if isinstance(item, Composed) else ComposeMemo.copy_of(*item, now)

    def build(self) -> list[TaskInfo]:
        """Build every TaskInfo once (those of refused tasks are dropped later); return them."""
        if self.infos is not None:
            return self.infos
        bases: dict[int, tuple[Any, ...]] = {}
        infos = []
        for item in self.plan:
            if isinstance(item, Composed):
                infos.append(fresh_info(item))
                continue
            template, task, task_id = item
            base = bases.get(id(template))
            if base is None:
                base = bases[id(template)] = info_base(template, self.now)
            infos.append(copy_info(base, task, task_id))
        self.infos = infos
        return infos

    def one(self) -> TaskInfo:
        """The TaskInfo of a single enqueue that succeeded."""
        return self.build()[0]

    def each(
        self, refused: list[BaseException | None], errors: list[AsynqError | None]
    ) -> list[Outcome]:
        """The outcome of every call of a coalesced batch: the error of a call left out
        (``refused``), else that of its write (``errors``, one per task written) or its
        TaskInfo."""
        written = zip(self.build(), errors, strict=True)
        outcomes: list[Outcome] = []
        for error in refused:
            if error is None:
                info, error = next(written)
                outcomes.append(info if error is None else error)
            else:
                outcomes.append(error)
        return outcomes

    def many(self, errors: list[AsynqError | None]) -> list[TaskInfo]:
        """The TaskInfos of an ``enqueue_many``; raises if any task was refused."""
        infos = self.build()
        if any(errors):
            failed = [None if e else i for i, e in zip(infos, errors, strict=True)]
            raise EnqueueManyError(failed, errors)
        return infos


def _no_writes() -> Op[list[AsynqError | None]]:
    """The op of an ``enqueue_many`` with no tasks: it sends nothing."""
    yield from ()
    return []


class _ClientCore:
    """Everything both clients share; no I/O."""

    def __init__(self, clock: Clock | None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self._registered: dict[str, float] = {}
        self._memo = ComposeMemo()

    def _needs_register(self, qname: str, now: float) -> bool:
        if self._registered.get(qname, -1.0) > now:
            return False
        self._registered[qname] = now + QUEUE_REGISTRATION_TTL
        return True

    def _registering(self, op: Op[T], queues: Sequence[str]) -> Op[T]:
        """``op``, forgetting that ``queues`` are registered if it fails (the SADD may not have
        reached Redis; the next enqueue sends it again)."""
        try:
            return (yield from op)
        except BaseException:
            for qname in queues:
                self._registered.pop(qname, None)
            raise

    def compose(
        self,
        task: Task,
        opts: dict[str, Any],
        task_id: str,
        key: Hashable | None,
        now: float,
        trace: Mapping[str, str] | None = None,
    ) -> Composed:
        """Compose ``task`` at ``now`` with the call's ``opts`` and id ``task_id`` (unless an
        option names one), copying a memo template when ``key`` (``ComposeMemo.key(opts)``)
        allows. ``trace`` (:func:`asynq.tracing.trace_headers`) joins the headers unless the
        task or the call already carries a trace context."""
        if not isinstance(task, Task):
            raise ValidationError(f"expected an asynq.Task, not {type(task).__name__}")
        if trace:
            given = opts.get("headers") or {}
            if "traceparent" not in task.headers and "traceparent" not in given:
                opts, key = {**opts, "headers": {**given, **trace}}, None
        plain = key is not None and ComposeMemo.plain(task)
        if plain:
            c = self._memo.copy(key, task, task_id, now)
            if c is not None:
                return c
        if "task_id" not in opts and "task_id" not in task.options:
            opts = {**opts, "task_id": task_id}  # what compose would draw, drawn more cheaply
        c = compose(task, opts, now, self.clock.now())
        if plain:
            self._memo.remember(key, c)
        return c

    def enqueue_op(
        self, task: Task, opts: dict[str, Any], trace: Mapping[str, str]
    ) -> tuple[Op[None], _Written]:
        """One enqueue on its own; ``trace`` is the caller's (:func:`asynq.tracing.trace_headers`)
        context."""
        now = self.clock.now()
        key = ComposeMemo.key(opts)
        c = self.compose(task, opts, new_task_id(), key, now, trace)
        qname = c.msg.queue
        register = self._needs_register(qname, now)
        op = client_ops.write(c, self.clock.now_ns(), register)
        return (self._registering(op, (qname,)) if register else op), _Written([c], now)

    def enqueue_many_op(
        self, tasks: Iterable[TaskSpec], opts: dict[str, Any]
    ) -> tuple[Op[list[AsynqError | None]], _Written]:
        """Validate every task now; plain tasks whose options have a memo template are copied
        only while the stream is being sent, so Redis starts on the first ones meanwhile."""
        key, now = ComposeMemo.key(opts), self.clock.now()  # one "now" for the whole batch
        trace = tracing.trace_headers()
        plan: list[Planned] = []
        try:
            specs = list(tasks)
        except TypeError:
            raise ValidationError(
                f"enqueue_many takes an iterable of tasks, not {type(tasks).__name__}"
            ) from None
        for spec, task_id in zip(specs, new_task_ids(len(specs)), strict=True):
            if isinstance(spec, tuple):
                task, own = spec
                merged = {**opts, **own}
                plan.append(self._plan(task, merged, task_id, ComposeMemo.key(merged), now, trace))
            else:
                plan.append(self._plan(spec, opts, task_id, key, now, trace))
        written = _Written(plan, now)
        return self._write_op(written), written

    def coalesced_op(
        self, batch: Sequence[EnqueueRequest]
    ) -> tuple[Op[list[AsynqError | None]], _Written, list[BaseException | None]]:
        """The single enqueues of a coalesced batch, written the way ``enqueue_many`` writes
        (one "now", one draw of ids, memo copies made while the stream is sent). A call that
        cannot be composed stays out; the third value holds its error where the others have
        ``None`` (:meth:`_Written.each` gives every call its outcome)."""
        now = self.clock.now()
        plan: list[Planned] = []
        refused: list[BaseException | None] = []
        for (task, opts, trace), task_id in zip(batch, new_task_ids(len(batch)), strict=True):
            try:
                plan.append(self._plan(task, opts, task_id, ComposeMemo.key(opts), now, trace))
            except Exception as exc:  # that caller's error alone (e.g. a ValidationError)
                refused.append(exc)
            else:
                refused.append(None)
        written = _Written(plan, now)
        return self._write_op(written), written, refused

    def _plan(
        self,
        task: Task,
        opts: dict[str, Any],
        task_id: str,
        key: Hashable | None,
        now: float,
        trace: Mapping[str, str],
    ) -> Planned:
        """One task of a batch: its memo template, to be copied while the batch is sent, when
        it has one (a plain task, options with a key, no trace context to add), else its full
        composition (which validates it)."""
        if key is not None and not trace and ComposeMemo.plain(task):
            template = self._memo.template(key)
            if template is not None:
                return template, task, task_id
        return self.compose(task, opts, task_id, key, now, trace)

    def _write_op(self, written: _Written) -> Op[list[AsynqError | None]]:
        """Write ``written``'s tasks in one stream, registering the queues that need it."""
        if not written.plan:
            return _no_writes()
        names = {(p if isinstance(p, Composed) else p[0]).msg.queue for p in written.plan}
        queues = sorted(q for q in names if self._needs_register(q, written.now))
        op = client_ops.write_stream(written.composed(), self.clock.now_ns(), queues)
        return self._registering(op, queues) if queues else op


#: One single enqueue as a coalesced batch carries it: the task, the call's options and the
#: caller's trace context (read in the caller's task: the leader runs in its own).
EnqueueRequest = tuple[Task, dict[str, Any], Mapping[str, str]]
#: What each call of a coalesced batch gets back: its TaskInfo or its error.
Outcome = TaskInfo | BaseException


def _interrupted() -> BrokerConnectionError:
    """What the other callers of a batch get when its leader was interrupted mid-exchange."""
    return BrokerConnectionError(
        "the batch carrying this enqueue was interrupted: whether it was written is unknown"
    )


class AsyncEnqueuer:
    """How an :class:`AsyncClient` sends its single enqueues.

    On the fast lane, enqueues issued concurrently are coalesced: a caller that finds nobody
    sending sends at once, alone, as before; callers arriving meanwhile queue *uncomposed*,
    and the one handed the lead composes all of them and writes them as one stream, the way
    ``enqueue_many`` does. So a queued caller only waits, and the batch shares one clock
    read, one draw of ids, the memo templates' TaskInfo fields and one pass through the
    driver. Each call keeps its own outcome: an invalid option, a duplicate or a taken
    ``task_id`` fails that call alone.
    """

    def __init__(self, driver: AsyncDriver, core: _ClientCore) -> None:
        self._driver = driver
        self._core = core
        self._coalescer: AsyncCoalescer[EnqueueRequest, Outcome] | None = (
            AsyncCoalescer(self._send, _interrupted, regroup=True) if driver.coalesces else None
        )

    async def enqueue(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        """Enqueue ``task`` with the call's ``opts``: alone, or in the batch it joins."""
        trace = tracing.trace_headers()
        if self._coalescer is None:
            return await self._alone(task, opts, trace)
        outcome = await self._coalescer.submit((task, opts, trace))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def _alone(self, task: Task, opts: dict[str, Any], trace: Mapping[str, str]) -> TaskInfo:
        op, written = self._core.enqueue_op(task, opts, trace)
        await self._driver.run(op, written.build)
        return written.one()

    async def _send(self, batch: list[EnqueueRequest]) -> list[Outcome]:
        if len(batch) == 1:
            return [await self._alone(*batch[0])]
        op, written, refused = self._core.coalesced_op(batch)
        return written.each(refused, await self._driver.run(op, written.build))


class SyncEnqueuer:
    """How a :class:`Client` sends its single enqueues: each call on its own (threads sharing
    the client still share writes, in the fast lane's coalescer)."""

    def __init__(self, driver: SyncDriver, core: _ClientCore) -> None:
        self._driver = driver
        self._core = core

    def enqueue(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        """Enqueue ``task`` with the call's ``opts``."""
        op, written = self._core.enqueue_op(task, opts, tracing.trace_headers())
        self._driver.run(op, written.build)
        return written.one()


class AsyncClient(AsyncFacade):
    """Enqueue tasks from asyncio code (FastAPI, async Django views, handlers).

    Args:
        redis: Where Redis is (see :data:`~asynq.AsyncRedisLike`): a Redis URL (see
            :class:`~asynq.RedisConnection`), a ``RedisConnection``, or an existing
            ``redis.asyncio.Redis``/``RedisCluster`` (then the caller keeps ownership).
            Defaults to ``$ASYNQ_REDIS_URL`` or ``redis://127.0.0.1:6379/0``.
        clock: Where "now" comes from (tests pass a ``FakeClock``).
        fast_lane: ``False`` sends every call through redis-py's public API; by default
            (``None``: unless ``$ASYNQ_FAST_LANE`` is ``0``) a plain standalone client writes
            straight onto redis-py's pooled connections, and enqueues issued concurrently on
            this client go out together in pipelined writes
            (docs/operations.md#the-fast-lane).

    One client serves all tasks of its event loop: concurrent enqueues share round trips.
    """

    def __init__(
        self,
        redis: AsyncRedisLike | None = None,
        *,
        clock: Clock | None = None,
        fast_lane: bool | None = None,
    ) -> None:
        client, self._owned = resolve_async(redis)
        self._driver = AsyncDriver(client, fast_lane)
        self._core = _ClientCore(clock)
        self._enqueuer = AsyncEnqueuer(self._driver, self._core)

    @property
    def redis(self) -> AsyncRedis:
        """The redis-py client this client sends to (for an Inspector on the same Redis)."""
        return self._driver.redis

    async def enqueue(self, task: Task, **opts: Unpack[EnqueueOptions]) -> TaskInfo:
        """Enqueue ``task``: pending now, scheduled for later, or added to its group.

        Raises:
            DuplicateTaskError: the ``unique`` lock is held by another task.
            TaskIDConflictError: a task with the given ``task_id`` exists.
            ValidationError: an option is invalid.
            BrokerError: Redis failed.
        """
        return await self._enqueue(task, dict(opts))

    async def _enqueue(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        return await self._enqueuer.enqueue(task, opts)

    async def enqueue_in(
        self, task: Task, delay: Duration, **opts: Unpack[EnqueueOptions]
    ) -> TaskInfo:
        """Enqueue ``task`` to be processed after ``delay`` (seconds or timedelta)."""
        return await self._enqueue(task, {**opts, "process_in": delay})

    async def enqueue_at(
        self, task: Task, when: Instant, **opts: Unpack[EnqueueOptions]
    ) -> TaskInfo:
        """Enqueue ``task`` to be processed at ``when`` (aware datetime or Unix seconds)."""
        return await self._enqueue(task, {**opts, "process_at": when})

    async def enqueue_unique(
        self, task: Task, ttl: Duration, **opts: Unpack[EnqueueOptions]
    ) -> TaskInfo:
        """Enqueue ``task`` unless an equal (queue, type, payload) task was enqueued within ttl."""
        return await self._enqueue(task, {**opts, "unique": ttl})

    async def add_to_group(
        self, task: Task, group: str, /, **opts: Unpack[EnqueueOptions]
    ) -> TaskInfo:
        """Add ``task`` to ``group``, to be aggregated by the server's group aggregator."""
        return await self._enqueue(task, {**opts, "group": group})

    async def enqueue_many(
        self, tasks: Iterable[TaskSpec], **opts: Unpack[EnqueueOptions]
    ) -> list[TaskInfo]:
        """Enqueue many tasks in one pipelined round trip.

        Each item is a ``Task`` or a ``(Task, {options})`` pair; ``opts`` apply to all.

        Raises:
            EnqueueManyError: some tasks were refused (the rest were enqueued).
        """
        op, written = self._core.enqueue_many_op(tasks, dict(opts))
        return written.many(await self._driver.run(op, written.build))


# Generated by scripts/gen_twins.py from AsyncClient above: edit that, then run the script.
class Client(SyncFacade):
    """Enqueue tasks from blocking code (Django views, Flask, scripts).

    Args:
        redis: Where Redis is (see :data:`~asynq.RedisLike`): a Redis URL (see
            :class:`~asynq.RedisConnection`), a ``RedisConnection``, or an existing
            ``redis.Redis``/``RedisCluster`` (then the caller keeps ownership).
            Defaults to ``$ASYNQ_REDIS_URL`` or ``redis://127.0.0.1:6379/0``.
        clock: Where "now" comes from (tests pass a ``FakeClock``).
        fast_lane: ``False`` sends every call through redis-py's public API; by default
            (``None``: unless ``$ASYNQ_FAST_LANE`` is ``0``) a plain standalone client writes
            straight onto redis-py's pooled connections, and enqueues issued concurrently on
            this client go out together in pipelined writes
            (docs/operations.md#the-fast-lane).

    The client is thread-safe: enqueues from concurrent threads share round trips.
    """

    def __init__(
        self,
        redis: RedisLike | None = None,
        *,
        clock: Clock | None = None,
        fast_lane: bool | None = None,
    ) -> None:
        client, self._owned = resolve_sync(redis)
        self._driver = SyncDriver(client, fast_lane)
        self._core = _ClientCore(clock)
        self._enqueuer = SyncEnqueuer(self._driver, self._core)

    @property
    def redis(self) -> SyncRedis:
        """The redis-py client this client sends to (for an Inspector on the same Redis)."""
        return self._driver.redis

    def enqueue(self, task: Task, **opts: Unpack[EnqueueOptions]) -> TaskInfo:
        """Enqueue ``task``: pending now, scheduled for later, or added to its group.

        Raises:
            DuplicateTaskError: the ``unique`` lock is held by another task.
            TaskIDConflictError: a task with the given ``task_id`` exists.
            ValidationError: an option is invalid.
            BrokerError: Redis failed.
        """
        return self._enqueue(task, dict(opts))

    def _enqueue(self, task: Task, opts: dict[str, Any]) -> TaskInfo:
        return self._enqueuer.enqueue(task, opts)

    def enqueue_in(self, task: Task, delay: Duration, **opts: Unpack[EnqueueOptions]) -> TaskInfo:
        """Enqueue ``task`` to be processed after ``delay`` (seconds or timedelta)."""
        return self._enqueue(task, {**opts, "process_in": delay})

    def enqueue_at(self, task: Task, when: Instant, **opts: Unpack[EnqueueOptions]) -> TaskInfo:
        """Enqueue ``task`` to be processed at ``when`` (aware datetime or Unix seconds)."""
        return self._enqueue(task, {**opts, "process_at": when})

    def enqueue_unique(self, task: Task, ttl: Duration, **opts: Unpack[EnqueueOptions]) -> TaskInfo:
        """Enqueue ``task`` unless an equal (queue, type, payload) task was enqueued within ttl."""
        return self._enqueue(task, {**opts, "unique": ttl})

    def add_to_group(self, task: Task, group: str, /, **opts: Unpack[EnqueueOptions]) -> TaskInfo:
        """Add ``task`` to ``group``, to be aggregated by the server's group aggregator."""
        return self._enqueue(task, {**opts, "group": group})

    def enqueue_many(
        self, tasks: Iterable[TaskSpec], **opts: Unpack[EnqueueOptions]
    ) -> list[TaskInfo]:
        """Enqueue many tasks in one pipelined round trip.

        Each item is a ``Task`` or a ``(Task, {options})`` pair; ``opts`` apply to all.

        Raises:
            EnqueueManyError: some tasks were refused (the rest were enqueued).
        """
        op, written = self._core.enqueue_many_op(tasks, dict(opts))
        return written.many(self._driver.run(op, written.build))
