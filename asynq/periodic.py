"""Periodic tasks read from a provider and kept in sync (Go's ``asynq.PeriodicTaskManager``).

A :class:`PeriodicTaskManager` asks a provider for the list of :class:`PeriodicTaskConfig`
at start and then every ``sync_interval`` (3 minutes by default), and keeps a
:class:`~asynq.scheduler.Scheduler` registered with exactly those configs. Configs are told
apart by :meth:`PeriodicTaskConfig.hash`; a config whose hash is unchanged keeps its entry (and
entry id), a new hash is registered, a vanished one unregistered.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from typing import Any, Protocol, TypeAlias, runtime_checkable

from asynq._base.clock import Clock
from asynq._base.lifecycle import NEW, Service
from asynq._base.stopping import cancel_and_wait
from asynq._options import option_strings
from asynq._task import Task
from asynq.connection import AsyncRedisLike
from asynq.errors import FailedPreconditionError, ValidationError
from asynq.scheduler import (
    DEFAULT_HEARTBEAT_INTERVAL,
    PostEnqueueHook,
    PreEnqueueHook,
    Scheduler,
)

__all__ = [
    "DEFAULT_SYNC_INTERVAL",
    "ConfigSource",
    "PeriodicTaskConfig",
    "PeriodicTaskConfigProvider",
    "PeriodicTaskManager",
]

#: Go's ``defaultSyncInterval`` (periodic_task_manager.go), in seconds.
DEFAULT_SYNC_INTERVAL = 180.0


@dataclass(frozen=True, slots=True)
class PeriodicTaskConfig:
    """One periodic task: Go's ``PeriodicTaskConfig{Cronspec, Task, Opts}``.

    Attributes:
        cronspec: The schedule (see :mod:`asynq.cron`). Must not be empty.
        task: The task to enqueue.
        opts: Enqueue options passed to :meth:`Scheduler.register
            <asynq.scheduler.Scheduler.register>` (``queue``, ``max_retry``...).
    """

    cronspec: str
    task: Task
    opts: Mapping[str, Any] = field(default_factory=dict)

    def hash(self) -> str:
        """Go's config hash: hex SHA-256 over the spec, type, payload and sorted option strings.

        For configs that Go could express, the digest equals Go's. Parts Go has no option for
        (headers, options attached to the task itself) are appended when present, so that
        changing them also counts as a change.
        """
        digest = hashlib.sha256()
        digest.update(self.cronspec.encode())
        digest.update(self.task.type.encode())
        digest.update(self.task.payload)
        opts = dict(self.opts)
        for text in sorted(option_strings(opts)):
            digest.update(text.encode())
        extras: dict[str, Any] = {}
        if opts.get("headers"):
            extras["headers"] = sorted(dict(opts["headers"]).items())
        if self.task.headers:
            extras["task_headers"] = sorted(self.task.headers.items())
        if self.task.options:
            extras["task_options"] = sorted(option_strings(self.task.options))
        if extras:
            digest.update(b"\x00asynq-python\x00" + json.dumps(extras, sort_keys=True).encode())
        return digest.hexdigest()


@runtime_checkable
class PeriodicTaskConfigProvider(Protocol):
    """Anything with a ``get_configs()`` method (plain or ``async``)."""

    def get_configs(
        self,
    ) -> Sequence[PeriodicTaskConfig] | Awaitable[Sequence[PeriodicTaskConfig]]:
        """Return the periodic tasks that should be registered now."""
        ...


#: A provider object, or a plain (sync or async) callable returning the configs.
ConfigSource: TypeAlias = (
    PeriodicTaskConfigProvider
    | Callable[[], Sequence[PeriodicTaskConfig] | Awaitable[Sequence[PeriodicTaskConfig]]]
)


def _check(config: Any) -> PeriodicTaskConfig:
    if not isinstance(config, PeriodicTaskConfig):
        raise ValidationError(f"expected a PeriodicTaskConfig, not {type(config).__name__}")
    if not isinstance(config.task, Task):
        raise ValidationError("PeriodicTaskConfig.task must be an asynq.Task")
    if not isinstance(config.cronspec, str) or not config.cronspec:
        raise ValidationError("PeriodicTaskConfig.cronspec cannot be empty")
    return config


class PeriodicTaskManager(Service):
    """Keeps a scheduler registered with the configs a provider returns.

    Args:
        provider: An object with ``get_configs()``, or a callable; either may be ``async``.
            A blocking one runs in a worker thread so it cannot stall the event loop.
        redis: Where to connect (see :class:`~asynq.scheduler.Scheduler`).
        location, heartbeat_interval, pre_enqueue, post_enqueue, clock, logger, dedup:
            Passed to the :class:`~asynq.scheduler.Scheduler`.
        sync_interval: Seconds (or a timedelta) between two reads of the provider.

    The first read happens in :meth:`start`: it must succeed and every config must be valid.
    Later reads are more forgiving: if the provider fails or returns an invalid config, the
    error is logged and the registered entries stay as they are until the next read.
    Identical configs (equal hash) in one list are registered once.
    """

    _service_name = "periodic task manager"

    def __init__(
        self,
        provider: ConfigSource,
        redis: AsyncRedisLike | None = None,
        *,
        location: tzinfo | str = UTC,
        heartbeat_interval: float | timedelta = DEFAULT_HEARTBEAT_INTERVAL,
        pre_enqueue: PreEnqueueHook | None = None,
        post_enqueue: PostEnqueueHook | None = None,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
        dedup: bool = True,
        sync_interval: float | timedelta = DEFAULT_SYNC_INTERVAL,
    ) -> None:
        super().__init__()
        if isinstance(provider, PeriodicTaskConfigProvider):
            self._get: Callable[[], Any] = provider.get_configs
        elif callable(provider):
            self._get = provider
        else:
            raise ValidationError("provider must have get_configs() or be callable")
        seconds = (
            sync_interval.total_seconds() if isinstance(sync_interval, timedelta) else sync_interval
        )
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
            raise ValidationError(
                f"sync_interval must be a positive duration, not {sync_interval!r}"
            )
        self._sync_interval = float(seconds)
        self._log = logger or logging.getLogger("asynq.periodic")
        self._scheduler = Scheduler(
            redis,
            location=location,
            heartbeat_interval=heartbeat_interval,
            pre_enqueue=pre_enqueue,
            post_enqueue=post_enqueue,
            clock=clock,
            logger=logger,
            dedup=dedup,
        )
        self._entry_ids: dict[str, str] = {}  # config hash -> entry id
        self._sync_task: asyncio.Task[None] | None = None

    @property
    def scheduler(self) -> Scheduler:
        """The scheduler this manager drives."""
        return self._scheduler

    @property
    def entry_ids(self) -> dict[str, str]:
        """A copy of the registered entries: config hash -> scheduler entry id."""
        return dict(self._entry_ids)

    def run(self) -> None:
        """Run until SIGTERM or SIGINT, then shut down gracefully (see ``Scheduler.run``)."""
        self._run(self.start)

    async def serve(self) -> None:
        """Start, then wait until :meth:`shutdown` is called; cancelling it also shuts down."""
        await self._serve(self.start)

    async def start(self) -> None:
        """Read the configs, register them all, start the scheduler and the periodic sync.

        Raises:
            ValidationError: a config is invalid (nothing is registered then).
            FailedPreconditionError: the manager was started before.
            Exception: whatever the provider raised.
        """
        if self._state != NEW:
            raise FailedPreconditionError("asynq: the periodic task manager was started before")
        self._activate()
        configs = [_check(c) for c in await self._read()]
        self._apply(configs)
        await self._scheduler.start()
        self._sync_task = asyncio.create_task(self._sync_loop(), name="asynq-periodic-sync")

    async def shutdown(self) -> None:
        """Stop syncing and shut the scheduler down (see ``Scheduler.shutdown``)."""
        await super().shutdown()

    async def _shut_down(self) -> None:
        if self._sync_task is not None:
            await cancel_and_wait(self._sync_task)
            self._sync_task = None
        await self._scheduler.shutdown()

    def _hurry(self) -> None:
        self._scheduler._hurry()

    async def sync(self) -> None:
        """Read the provider now and apply the difference (also done every sync_interval).

        Errors are logged, not raised; on error the registered entries are left unchanged.
        """
        try:
            configs = [_check(c) for c in await self._read()]
            self._apply(configs)
        except Exception:
            self._log.exception("Failed to sync periodic task configs")

    async def _read(self) -> Sequence[PeriodicTaskConfig]:
        if inspect.iscoroutinefunction(self._get):
            result = await self._get()
        else:
            result = await asyncio.to_thread(self._get)
            if inspect.isawaitable(result):
                result = await result
        if result is None:
            return []
        return list(result)

    def _apply(self, configs: Sequence[PeriodicTaskConfig]) -> None:
        """Register new hashes, then unregister vanished ones; all or nothing on errors."""
        wanted: dict[str, PeriodicTaskConfig] = {}
        for config in configs:
            wanted.setdefault(config.hash(), config)
        added: dict[str, str] = {}
        try:
            for digest, config in wanted.items():
                if digest not in self._entry_ids:
                    added[digest] = self._scheduler.register(
                        config.cronspec, config.task, **dict(config.opts)
                    )
        except Exception:
            for entry_id in added.values():
                self._scheduler.unregister(entry_id)
            raise
        for digest, entry_id in added.items():
            self._entry_ids[digest] = entry_id
            self._log.info("Registered periodic task %s (entry %s)", digest[:12], entry_id)
        for digest in [d for d in self._entry_ids if d not in wanted]:
            entry_id = self._entry_ids.pop(digest)
            self._scheduler.unregister(entry_id)
            self._log.info("Unregistered periodic task %s (entry %s)", digest[:12], entry_id)

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sync_interval)
            await self.sync()
