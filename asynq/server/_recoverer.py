"""Retries or archives tasks whose worker vanished (Go's ``recoverer``), sooner when that
worker is known to be dead.

Two passes find such tasks:

- Go's pass, every minute and once at start: a task whose lease expired at least 30 s ago
  (room for clock skew between servers) lost its worker, a crash, a network cut-off or a
  stalled process. It goes to retry (or to the archive once out of retries) with the error
  ``asynq: task lease expired``, after the ``retry_delay_func`` delay. Aggregation sets
  abandoned by a dead server go back to their groups.
- The dead-holder pass, every :data:`DEAD_HOLDER_INTERVAL` (this library only): a task whose
  lease expired at least :data:`DEAD_HOLDER_GRACE` ago *and* that no live server claims.
  Every server, Go's and this library's, lists the tasks it runs in its
  ``asynq:workers:{...}`` hash at each heartbeat (every 5 s, 10 s TTL) and extends their
  leases in the same beat; a task whose lease lapsed and that no such hash lists has a dead
  holder, so waiting out the skew grace protects nobody. The task is retried at once (its
  first recovery; later ones wait the retry delay, so that a task that kills its worker is
  not run in a tight loop) and forwarded to pending. Nothing with a valid lease is touched,
  and lease length and extension stay Go's, so Go servers sharing the queues are unaffected.

A worker killed with tasks in flight so has them running again within about 35 s (lease
expiry after its last heartbeat, 25-30 s, plus the grace and up to one pass interval) rather
than Go's 60-120 s. Each pass goes queue by queue: an error in one queue is logged and the
others are still recovered. A damaged task found is archived or released
(:mod:`asynq.server._damaged`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from asynq._base.clock import Clock
from asynq._base.codec import TaskMessage
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import aggregation_ops, server_ops, server_state_ops
from asynq._broker.ops.server_ops import Taken
from asynq.errors import AsynqError, LeaseExpiredError
from asynq.server import _damaged as damaged
from asynq.server._active_task import plain_task
from asynq.server._component import QueueComponent
from asynq.server._config import IsFailureFunc, RetryDelayFunc, counts_as_failure, retry_delay

#: Go's recoverer interval.
RECOVER_INTERVAL = 60.0
#: How long a lease must have been expired before Go's pass recovers the task.
LEASE_EXPIRED_GRACE = 30.0
#: Period of the dead-holder pass.
DEAD_HOLDER_INTERVAL = 3.0
#: How long a lease must have been expired before the dead-holder pass recovers the task (its
#: holder no longer lists it, so this only absorbs a small clock difference).
DEAD_HOLDER_GRACE = 2.0


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
        dead_holder_interval: float = DEAD_HOLDER_INTERVAL,
    ) -> None:
        super().__init__(driver, clock, logger, queues=queues, interval=interval)
        self._retry_delay = retry_delay_func
        self._is_failure = is_failure
        self._dead_holder_interval = dead_holder_interval

    async def run(self) -> None:
        """Go's pass at once and every interval, the dead-holder pass in between, until
        cancelled. A pass never raises for a Redis error or damaged data."""
        loop = asyncio.get_running_loop()
        next_full = loop.time()
        while True:
            if loop.time() >= next_full:
                await self.recover_once()
                next_full = loop.time() + self._interval
            else:
                await self.recover_dead_holders()
            await asyncio.sleep(min(self._dead_holder_interval, self._interval))

    async def recover_once(self) -> None:
        """Go's pass: lease-expired tasks, then stale aggregation sets."""
        cutoff = self._clock.now() - LEASE_EXPIRED_GRACE
        for qname, found in await self._lease_expired(cutoff, logging.WARNING):
            for taken in found:
                await self._recover(qname, taken, at_once=False)
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

    async def recover_dead_holders(self) -> int:
        """The dead-holder pass; returns the number of tasks recovered."""
        cutoff = self._clock.now() - DEAD_HOLDER_GRACE
        # A queue that cannot be read is reported by Go's pass each minute, not every few seconds.
        listed = await self._lease_expired(cutoff, logging.DEBUG)
        expired = [(q, found) for q, found in listed if found]
        if not expired:
            return 0
        try:
            claimed = await self._driver.run(server_state_ops.claimed_task_ids(self._clock.now()))
        except AsynqError as exc:
            # Without the live servers' claims no holder is known to be dead: Go's pass decides.
            self._log.warning("recoverer: could not read the live servers' tasks: %s", exc)
            return 0
        recovered = 0
        for qname, found in expired:
            orphans = [t for t in found if t.id not in claimed]
            for taken in orphans:
                await self._recover(qname, taken, at_once=True)
            if orphans:
                recovered += len(orphans)
                await self._forward(qname)
        return recovered

    async def _lease_expired(self, cutoff: float, level: int) -> list[tuple[str, list[Taken]]]:
        found = []
        for qname in self._queues:
            try:
                found.append(
                    (qname, await self._driver.run(server_ops.list_lease_expired(qname, cutoff)))
                )
            except AsynqError as exc:
                self._log.log(
                    level,
                    "recoverer: could not list lease expired tasks in queue %r: %s",
                    qname,
                    exc,
                )
        return found

    async def _recover(self, qname: str, taken: Taken, *, at_once: bool) -> None:
        checked = damaged.inspect(qname, taken)
        if isinstance(checked, damaged.Damage):
            await damaged.dispose(self._driver, self._log, checked, self._clock.now())
            return
        msg: TaskMessage = checked
        error = LeaseExpiredError()
        now = self._clock.now()
        if msg.retried >= msg.retry:
            call = server_ops.archive_call(msg, str(error), now)
            what, outcome = "could not move task to archive", "archived it (no retry left)"
        else:
            if at_once and msg.retried == 0:
                retry_at = now
            else:
                delay = retry_delay(
                    self._retry_delay, msg.retried, error, plain_task(msg), self._log
                )
                retry_at = now + delay
            is_failure = counts_as_failure(self._is_failure, error, self._log)
            call = server_ops.retry_call(msg, retry_at, str(error), is_failure, now)
            what, outcome = "could not retry lease expired task", "scheduled it for retry"
        try:
            await self._driver.run(server_ops.run_call(call))
        except AsynqError as exc:
            self._log.warning("recoverer: %s id=%s: %s", what, msg.id, exc)
        else:
            self._log.info("recoverer: task id=%s lost its worker; %s", msg.id, outcome)

    async def _forward(self, qname: str) -> None:
        # Retried at once means due now: move it to pending rather than wait for a forwarder.
        try:
            await self._driver.run(
                server_ops.forward_if_ready([qname], self._clock.now(), self._clock.now_ns())
            )
        except AsynqError as exc:
            self._log.warning("recoverer: could not forward queue %r: %s", qname, exc)
