"""Retries or archives tasks whose worker vanished (Go's ``recoverer``).

A task whose lease expired at least 30 s ago (room for clock skew between servers) lost its
worker: a crash, a network cut-off or a stalled process. Every minute, and once at start, such
tasks go to retry (or to the archive once out of retries) with the error
``asynq: task lease expired``. Aggregation sets abandoned by a dead server go back to their
groups.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from asynq._base.clock import Clock
from asynq._base.codec import TaskMessage
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import aggregation_ops, server_ops
from asynq.errors import AsynqError, LeaseExpiredError
from asynq.server._active_task import plain_task
from asynq.server._component import QueueComponent, every
from asynq.server._config import IsFailureFunc, RetryDelayFunc, to_seconds
from asynq.server._processor import decode_or_log

#: Go's recoverer interval.
RECOVER_INTERVAL = 60.0
#: How long a lease must have been expired before the task is recovered.
LEASE_EXPIRED_GRACE = 30.0


class Recoverer(QueueComponent):
    """Recovers orphaned tasks and aggregation sets of the given queues."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        *,
        queues: Sequence[str],
        retry_delay_func: RetryDelayFunc,
        is_failure: IsFailureFunc,
        interval: float = RECOVER_INTERVAL,
    ) -> None:
        super().__init__(driver, clock, logger, queues=queues, interval=interval)
        self._retry_delay = retry_delay_func
        self._is_failure = is_failure

    async def run(self) -> None:
        """Recover at once, then every interval until cancelled."""
        await every(self._interval, self.recover_once, at_once=True)

    async def recover_once(self) -> None:
        """One pass: lease-expired tasks, then stale aggregation sets."""
        await self._recover_lease_expired()
        for qname in self._queues:
            try:
                await self._driver.run(
                    aggregation_ops.reclaim_stale_aggregation_sets(qname, self._clock.now())
                )
            except AsynqError as exc:
                self._log.warning(
                    "recoverer: could not reclaim stale aggregation sets in queue %r: %s",
                    qname,
                    exc,
                )

    async def _recover_lease_expired(self) -> None:
        cutoff = self._clock.now() - LEASE_EXPIRED_GRACE
        try:
            encoded = await self._driver.run(server_ops.list_lease_expired(self._queues, cutoff))
        except AsynqError as exc:
            self._log.warning("recoverer: could not list lease expired tasks: %s", exc)
            return
        for data in encoded:
            # A corrupt message is reported and skipped, not allowed to block the others.
            msg = decode_or_log(data, self._log, "whose lease expired")
            if msg is not None:
                await self._recover(msg)

    async def _recover(self, msg: TaskMessage) -> None:
        error = LeaseExpiredError()
        now = self._clock.now()
        if msg.retried >= msg.retry:
            call = server_ops.archive_call(msg, str(error), now)
            what = "could not move task to archive"
        else:
            task = plain_task(msg)
            delay = to_seconds("retry delay", self._retry_delay(msg.retried, error, task))
            call = server_ops.retry_call(
                msg, now + delay, str(error), bool(self._is_failure(error)), now
            )
            what = "could not retry lease expired task"
        try:
            await self._driver.run(server_ops.run_call(call))
        except AsynqError as exc:
            self._log.warning("recoverer: %s: %s", what, exc)
