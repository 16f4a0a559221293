"""Retries outcome writes that failed (Go's ``syncer``).

When Redis refuses or drops the write that records a task's outcome, the write is queued here
and tried again every 5 s until the task's lease deadline passes; after that the lease may
belong to another worker and the recoverer takes over. Shutdown makes one last attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asynq._base.clock import Clock
from asynq._broker.calls import Op
from asynq._broker.drivers import AsyncDriver
from asynq.errors import AsynqError

#: Go's syncer interval.
SYNC_INTERVAL = 5.0


@dataclass(frozen=True)
class SyncRequest:
    """A write to retry: ``make_op`` builds it afresh each time (so "now" is current)."""

    make_op: Callable[[], Op[Any]]
    description: str
    #: Unix seconds after which the write is dropped (the task's lease deadline).
    deadline: float


class Syncer:
    """Holds failed writes and retries them."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        interval: float = SYNC_INTERVAL,
    ) -> None:
        self._driver = driver
        self._clock = clock
        self._log = logger
        self._interval = interval
        self._requests: list[SyncRequest] = []

    def add(self, request: SyncRequest) -> None:
        """Queue a failed write."""
        self._requests.append(request)

    @property
    def pending(self) -> int:
        """Writes waiting for a retry."""
        return len(self._requests)

    async def run(self) -> None:
        """Retry queued writes every interval until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.sync_once()

    async def sync_once(self) -> None:
        """Try each queued write once; keep the ones that failed and are not stale."""
        pending, self._requests = self._requests, []
        now = self._clock.now()
        for index, request in enumerate(pending):
            if request.deadline < now:
                self._log.warning("dropping stale write: %s", request.description)
                continue
            try:
                await self._driver.run(request.make_op())
            except AsynqError:
                self._requests.append(request)
            except BaseException:
                # Cancelled (at shutdown) or crashed: the writes not done yet stay queued for
                # the final flush or the restarted syncer.
                self._requests.extend(pending[index:])
                raise

    async def flush(self) -> None:
        """The final attempt at shutdown: try every queued write once, log what still fails."""
        pending, self._requests = self._requests, []
        for request in pending:
            try:
                await self._driver.run(request.make_op())
            except AsynqError as exc:
                self._log.error("%s: %s", request.description, exc)
