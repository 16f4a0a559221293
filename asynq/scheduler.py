"""The periodic task scheduler (Go's ``asynq.Scheduler``), with optional de-duplication.

A :class:`Scheduler` enqueues registered tasks on cron-like schedules (see :mod:`asynq.cron`)
and publishes its entries the way Go's scheduler does, so Go's ``Inspector.SchedulerEntries()``,
the ``asynq cron`` CLI and Asynqmon list them:

- every ``heartbeat_interval`` (first write one interval after start) it sets
  ``ZADD asynq:schedulers <now + 2*interval> asynq:schedulers:{<host>:<pid>:<uuid>}`` and
  rewrites that list with one ``SchedulerEntry`` per entry (expiring after 2*interval);
- after every successful enqueue it adds a ``SchedulerEnqueueEvent`` to
  ``asynq:scheduler_history:<entry id>`` (the newest 1000 are kept);
- on shutdown it removes its list and the history of its entries.

Beyond Go: several replicas, one enqueue per tick
--------------------------------------------------
Go's scheduler has no coordination: N processes running the same schedule enqueue N copies of
every task. Here, with ``dedup=True`` (the default), each tick is *claimed* before it is
enqueued: ``SET asynq:scheduler_tick:<fingerprint>:<tick> <entry id> NX EX 600``. The
fingerprint is a SHA-256 over the spec, the task type, payload and headers, and the Go option
strings of the options in effect (the task's own merged with the registered ones), so
replicas that registered the same periodic task compute the same key; ``<tick>`` is the
activation time in Unix seconds. The replica whose ``SET`` succeeds enqueues the task, calls
the hooks and records the history event; the others skip that tick silently (no hooks). Each
replica still publishes its own entries, so Go's tools show every replica, each with its own
entry ids and the history of the ticks it enqueued.

Consequences worth knowing:

- all replicas must run with ``dedup=True``; Go schedulers never claim ticks;
- ``@every`` schedules are aligned to multiples of their delay since the Unix epoch (an
  ``@every 1h`` entry fires on the hour), so that replicas started at different times agree
  on the ticks; with ``dedup=False`` the delay counts from start, as in Go;
- a replica more than 10 minutes late for a tick (a stopped process, a wrong clock) may
  enqueue it again once the claim has expired;
- two identical registrations in one process also share their ticks;
- a claim is taken before the enqueue: if the enqueue then fails, that tick is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import logging
import math
import os
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TypeAlias

import redis as redis_lib
from redis.cluster import RedisCluster

from asynq._base.clock import SYSTEM_CLOCK, Clock
from asynq._base.codec import (
    SchedulerEnqueueEventMessage,
    SchedulerEntryMessage,
    fill_timestamp,
    fill_timestamp_ns,
)
from asynq._base.lifecycle import ACTIVE, CLOSED, Service, hostname
from asynq._base.stopping import cancel_and_wait
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import scheduler_ops
from asynq._options import compose, option_strings, to_seconds
from asynq._resolve import resolve_async
from asynq._snapshots import SchedulerEntry
from asynq._task import Task, TaskInfo
from asynq.client import AsyncClient
from asynq.connection import AsyncRedisLike
from asynq.cron import EverySchedule, Schedule, load_location, parse_spec
from asynq.errors import AsynqError, FailedPreconditionError, ValidationError

if TYPE_CHECKING:
    from typing import Unpack

    from asynq._task import EnqueueOptions

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "PostEnqueueHook",
    "PreEnqueueHook",
    "Scheduler",
]

#: Go's ``defaultHeartbeatInterval`` (scheduler.go), in seconds.
DEFAULT_HEARTBEAT_INTERVAL = 10.0
#: Lifetime of a tick claim, in seconds: how late a replica may be and still see the claim.
TICK_CLAIM_TTL = 600
#: The cron loop re-reads the clock at least this often, so a wall-clock jump (suspend, NTP
#: step, a test's FakeClock) is noticed within a second.
_MAX_SLEEP = 1.0
_NS = 1_000_000_000

#: ``pre_enqueue(task, opts)``: called before each enqueue; may be a coroutine function.
PreEnqueueHook: TypeAlias = Callable[[Task, dict[str, Any]], Awaitable[None] | None]
#: ``post_enqueue(info, error)``: called after each enqueue attempt; exactly one is ``None``.
PostEnqueueHook: TypeAlias = Callable[
    [TaskInfo | None, BaseException | None], Awaitable[None] | None
]


def _location(value: tzinfo | str) -> tzinfo:
    if isinstance(value, str):
        return load_location(value)
    if isinstance(value, tzinfo):
        return value
    raise ValidationError(f"location must be a tzinfo or a zone name, not {value!r}")


def _interval(value: float | timedelta | None) -> float:
    if value is None:
        return DEFAULT_HEARTBEAT_INTERVAL
    seconds = to_seconds("heartbeat_interval", value)
    if seconds <= 0:
        raise ValidationError(f"heartbeat_interval must be a positive duration, not {value!r}")
    return seconds


def schedule_fingerprint(spec: str, task: Task, opts: Mapping[str, Any]) -> str:
    """The hex SHA-256 that identifies one periodic task across scheduler replicas.

    It covers the spec, the task type, payload and headers, and the options in effect (the
    task's own, overridden by ``opts``) in their Go string forms, each part length-prefixed.
    """
    merged: dict[str, Any] = {**task.options, **opts}
    headers = {**task.headers, **(merged.pop("headers", None) or {})}
    parts = [
        spec.encode(),
        task.type.encode(),
        task.payload,
        json.dumps(sorted(headers.items())).encode(),
        *(s.encode() for s in sorted(option_strings(merged))),
    ]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(eq=False, slots=True)
class _Entry:
    id: str
    spec: str
    schedule: Schedule
    task: Task
    opts: dict[str, Any]
    opt_strings: list[str]
    fingerprint: str
    next: int | None = None
    prev: int | None = None

    def sort_key(self) -> tuple[bool, int]:
        # robfig/cron keeps entries sorted by next run, entries that never run last.
        return (self.next is None, self.next or 0)

    def encode(self) -> bytes:
        msg = SchedulerEntryMessage(
            id=self.id,
            spec=self.spec,
            task_type=self.task.type,
            task_payload=self.task.payload,
            enqueue_options=self.opt_strings,
        )
        fill_timestamp(msg.next_enqueue_time, self.next)
        fill_timestamp(msg.prev_enqueue_time, self.prev)
        return msg.SerializeToString()

    def snapshot(self) -> SchedulerEntry:
        def dt(unix: int | None) -> datetime | None:
            return None if unix is None else datetime.fromtimestamp(unix, UTC)

        return SchedulerEntry(
            id=self.id,
            spec=self.spec,
            task=self.task,
            opts=list(self.opt_strings),
            next=dt(self.next),
            prev=dt(self.prev),
        )


class Scheduler(Service):
    """Enqueues registered tasks periodically; Go's ``asynq.Scheduler``.

    Args:
        redis: A Redis URL, a :class:`~asynq.RedisConnection`, or an existing
            ``redis.asyncio.Redis``/``RedisCluster`` (then the caller keeps ownership).
            Defaults to ``$ASYNQ_REDIS_URL`` or ``redis://127.0.0.1:6379/0``.
        location: Time zone of specs without a ``CRON_TZ=`` prefix: a ``tzinfo`` or an IANA
            name. Default UTC.
        heartbeat_interval: Seconds (or a timedelta) between writes of the entry list. Default
            10 s; the list expires after twice this.
        pre_enqueue: Called as ``pre_enqueue(task, opts)`` before each enqueue.
        post_enqueue: Called as ``post_enqueue(info, error)`` after each enqueue attempt.
        clock: Where "now" comes from (tests pass a ``FakeClock``).
        logger: Logger to use; default ``logging.getLogger("asynq.scheduler")``.
        dedup: Claim each tick in Redis so that replicas running the same schedule enqueue it
            once (see the module docstring). ``False`` behaves exactly like Go.

    Hooks may be plain functions or coroutine functions; they should return quickly. An
    exception raised by a hook is logged and otherwise ignored.

    Raises:
        ValidationError: for a bad location, interval or Redis argument.
    """

    _service_name = "scheduler"

    def __init__(
        self,
        redis: AsyncRedisLike | None = None,
        *,
        location: tzinfo | str = UTC,
        heartbeat_interval: float | timedelta = DEFAULT_HEARTBEAT_INTERVAL,
        pre_enqueue: PreEnqueueHook | None = None,
        post_enqueue: PostEnqueueHook | None = None,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
        dedup: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(redis, redis_lib.Redis | RedisCluster):
            raise ValidationError(
                "the scheduler runs on asyncio: pass a URL, a RedisConnection or a "
                "redis.asyncio client, not a blocking redis.Redis"
            )
        self._location = _location(location)
        self._interval = _interval(heartbeat_interval)
        self._pre = pre_enqueue
        self._post = post_enqueue
        self._clock = clock or SYSTEM_CLOCK
        self._log = logger or logging.getLogger("asynq.scheduler")
        self._dedup = dedup
        self._id = f"{hostname()}:{os.getpid()}:{uuid.uuid4()}"
        self._entries: dict[str, _Entry] = {}
        self._ever_registered: list[str] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Set to make the cron loop look at the entries again (bound to a loop when awaited).
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._jobs: set[asyncio.Task[None]] = set()
        client, self._owned = resolve_async(redis)
        self._driver = AsyncDriver(client)
        self._client = AsyncClient(client, clock=self._clock)

    # --- registration ----------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The scheduler id, ``<host>:<pid>:<uuid4>``, as in its Redis key."""
        return self._id

    @property
    def location(self) -> tzinfo:
        """The time zone of specs without a ``CRON_TZ=`` prefix."""
        return self._location

    def register(self, spec: str, task: Task, **opts: Unpack[EnqueueOptions]) -> str:
        """Enqueue ``task`` with ``opts`` on the schedule ``spec``; return the new entry id.

        ``opts`` are enqueue options, merged over the task's own at each enqueue (as Go). Only
        these options are published with the entry, in Go's ``Option.String()`` form
        (``Queue("critical")``, ``MaxRetry(3)``...); ``headers`` have no Go form and are
        not published. May be called before or while the scheduler runs, from any thread.

        Raises:
            ValidationError: the spec is not one Go's scheduler accepts, or an option is bad.
        """
        schedule = parse_spec(spec)
        if not isinstance(task, Task):
            raise ValidationError(f"expected an asynq.Task, not {type(task).__name__}")
        options = dict(opts)
        compose(task, options, self._clock.now(), self._clock.now())  # validates the options
        entry = _Entry(
            id=str(uuid.uuid4()),
            spec=spec,
            schedule=schedule,
            task=task,
            opts=options,
            opt_strings=option_strings(options),
            fingerprint=schedule_fingerprint(spec, task, options),
        )
        with self._lock:
            if self._state == ACTIVE:
                entry.next = self._next(entry, self._clock.now_ns())
            self._entries[entry.id] = entry
            self._ever_registered.append(entry.id)
        self._poke()
        return entry.id

    def unregister(self, entry_id: str) -> None:
        """Stop enqueuing the entry ``entry_id``.

        Raises:
            ValidationError: no entry has that id.
        """
        with self._lock:
            if self._entries.pop(entry_id, None) is None:
                raise ValidationError(f"no scheduler entry found with id {entry_id!r}")
        self._poke()

    def entries(self) -> list[SchedulerEntry]:
        """A snapshot of the registered entries, soonest next run first."""
        return [e.snapshot() for e in self._sorted()]

    # --- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        """Run until SIGTERM or SIGINT, then shut down gracefully (Go's ``Run``); a second
        signal stops waiting for the enqueues in flight.

        This is the process entry point: it starts an event loop, so call it from the main
        thread of a program that has none running (elsewhere it runs without signal handling).
        """
        self._run(self.start)

    async def serve(self) -> None:
        """Start, then wait until :meth:`shutdown` is called; cancelling it also shuts down."""
        await self._serve(self.start)

    async def start(self) -> None:
        """Start enqueuing and heartbeating in background tasks of the running loop.

        Raises:
            FailedPreconditionError: the scheduler is running or was shut down.
        """
        if self._state == ACTIVE:
            raise FailedPreconditionError("asynq: the scheduler is already running")
        if self._state == CLOSED:
            raise FailedPreconditionError("asynq: the scheduler has already been stopped")
        self._loop = asyncio.get_running_loop()
        self._log.info("Scheduler starting")
        self._log.info("Scheduler timezone is set to %s", self._location)
        with self._lock:
            self._activate()
            now_ns = self._clock.now_ns()
            for entry in self._entries.values():
                entry.next = self._next(entry, now_ns)
        self._tasks = [
            asyncio.create_task(self._cron_loop(), name="asynq-scheduler-cron"),
            asyncio.create_task(self._heartbeat_loop(), name="asynq-scheduler-heartbeat"),
        ]

    async def shutdown(self) -> None:
        """Stop: withdraw the entries, wait for enqueues in flight, delete the history.

        Does nothing if the scheduler was never started; later calls wait for the first.
        """
        await super().shutdown()

    async def _shut_down(self) -> None:
        self._log.info("Scheduler shutting down")
        cron_task, heartbeat_task = self._tasks
        await cancel_and_wait(heartbeat_task)
        await self._quietly("clear the scheduler entries", scheduler_ops.clear_entries(self._id))
        await cancel_and_wait(cron_task)
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
        await self._quietly(
            "clear the scheduler history", scheduler_ops.clear_history(self._ever_registered)
        )
        if self._owned:
            await self._driver.close()
        self._log.info("Scheduler stopped")

    def _hurry(self) -> None:
        """A second signal: give up the enqueues in flight instead of waiting for them."""
        for job in list(self._jobs):
            job.cancel()

    # --- internals -------------------------------------------------------------------------

    def _next(self, entry: _Entry, now_ns: int) -> int | None:
        aligned = self._dedup and isinstance(entry.schedule, EverySchedule)
        return entry.schedule.next(now_ns, self._location, aligned=aligned)

    def _sorted(self) -> list[_Entry]:
        with self._lock:
            entries = list(self._entries.values())
        return sorted(entries, key=_Entry.sort_key)

    def _poke(self) -> None:
        """Wake the cron loop so it sees a changed entry set (safe from any thread)."""
        loop, wakeup = self._loop, self._wakeup
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wakeup.set()
        else:
            loop.call_soon_threadsafe(wakeup.set)

    async def _cron_loop(self) -> None:
        while True:
            now_ns = self._clock.now_ns()
            soonest: int | None = None
            for entry in self._sorted():
                if entry.next is None:
                    break
                if entry.next * _NS > now_ns:
                    soonest = entry.next
                    break
                tick = entry.next
                entry.prev = tick
                entry.next = self._next(entry, now_ns)
                job = asyncio.create_task(self._fire(entry, tick))
                self._jobs.add(job)
                job.add_done_callback(self._jobs.discard)
            delay = _MAX_SLEEP
            if soonest is not None:
                delay = min(max(soonest - now_ns / _NS, 0.0), _MAX_SLEEP)
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)

    async def _heartbeat_loop(self) -> None:
        # Go's heartbeater writes on its first ticker tick, one interval after start.
        ttl = max(1, math.ceil(2 * self._interval))
        while True:
            await asyncio.sleep(self._interval)
            data = [e.encode() for e in self._sorted()]
            now = self._clock.now_ns() // _NS
            await self._quietly(
                "write heartbeat data", scheduler_ops.write_entries(self._id, data, ttl, now)
            )

    async def _fire(self, entry: _Entry, tick: int) -> None:
        if self._dedup:
            try:
                won = await self._driver.run(
                    scheduler_ops.claim_tick(entry.fingerprint, tick, entry.id, TICK_CLAIM_TTL)
                )
            except AsynqError as exc:
                self._log.error(
                    "Scheduler could not claim tick %d of entry %s: %s", tick, entry.id, exc
                )
                await self._hook("post_enqueue", self._post, None, exc)
                return
            if not won:
                self._log.debug(
                    "Tick %d of entry %s was enqueued by another replica", tick, entry.id
                )
                return
        await self._hook("pre_enqueue", self._pre, entry.task, dict(entry.opts))
        try:
            info = await self._client.enqueue(entry.task, **entry.opts)
        except Exception as exc:
            self._log.error(
                "Scheduler could not enqueue %r (entry %s): %s", entry.task, entry.id, exc
            )
            await self._hook("post_enqueue", self._post, None, exc)
            return
        await self._hook("post_enqueue", self._post, info, None)
        self._log.debug("Scheduler enqueued a task: %s", info.id)
        now_ns = self._clock.now_ns()
        event = SchedulerEnqueueEventMessage(task_id=info.id)
        fill_timestamp_ns(event.enqueue_time, now_ns)
        await self._quietly(
            f"record enqueue event of task {info.id}",
            scheduler_ops.record_event(entry.id, event.SerializeToString(), now_ns // _NS),
        )

    async def _hook(self, name: str, hook: Callable[..., Any] | None, *args: Any) -> None:
        if hook is None:
            return
        try:
            result = hook(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self._log.exception("Scheduler %s hook failed", name)

    async def _quietly(self, what: str, op: Any) -> None:
        try:
            await self._driver.run(op)
        except AsynqError as exc:
            self._log.warning("Scheduler could not %s: %s", what, exc)
