"""Aggregates the tasks of each group into one task (Go's ``aggregator``).

Every ``min(7 s, group_grace_period)`` a check runs over every group of every queue (at most
three checks in flight; a tick finding three running is skipped). A group that is ready (see
:class:`~asynq.server.Config`) is moved into an aggregation set, its tasks are handed to the
``GroupAggregator``, the returned task is enqueued in the group's queue through the normal
client path, and the set and its tasks are deleted. If this process dies in between, the
recoverer of any server gives the set's tasks back to the group after 2 minutes.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from asynq._base.clock import Clock
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import aggregation_ops
from asynq._task import Task
from asynq.client import AsyncClient
from asynq.errors import AsynqError
from asynq.server._active_task import plain_task
from asynq.server._component import QueueComponent
from asynq.server._config import GroupAggregator, GroupAggregatorFunc

#: Go's ``defaultAggregationCheckInterval`` and ``maxConcurrentAggregationChecks``.
MAX_CHECK_INTERVAL = 7.0
MAX_CHECKS_IN_FLIGHT = 3


class Aggregator(QueueComponent):
    """Runs aggregation checks on a fixed period."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        *,
        queues: Sequence[str],
        aggregator: GroupAggregator | GroupAggregatorFunc,
        client: AsyncClient,
        executor: Executor | None,
        grace_period: float,
        max_delay: float,
        max_size: int,
        interval: float | None = None,
    ) -> None:
        if interval is None:
            interval = min(MAX_CHECK_INTERVAL, grace_period)
        super().__init__(driver, clock, logger, queues=queues, interval=interval)
        self._aggregator = aggregator
        self._client = client
        self._executor = executor
        self._grace = grace_period
        self._max_delay = max_delay
        self._max_size = max_size
        self._checks: set[asyncio.Task[int]] = set()
        #: Checks that raised, waiting to be reported by run().
        self._crashed: list[BaseException] = []

    async def run(self) -> None:
        """Start a check every interval until cancelled.

        A check that crashed (rather than logging a Redis error) is raised from here at the
        next tick, so that the server's supervisor sees it as a crash of the aggregator.
        """
        while True:
            await asyncio.sleep(self._interval)
            self._raise_crashed_check()
            if len(self._checks) >= MAX_CHECKS_IN_FLIGHT:
                self._log.warning("Max number of aggregation checks in flight. Skipping")
                continue
            check = asyncio.create_task(self.aggregate_once(self._clock.now()))
            self._checks.add(check)
            check.add_done_callback(self._check_done)

    def _check_done(self, check: asyncio.Task[int]) -> None:
        self._checks.discard(check)
        error = None if check.cancelled() else check.exception()
        if error is not None:
            self._crashed.append(error)

    def _raise_crashed_check(self) -> None:
        if self._crashed:
            error, self._crashed = self._crashed[0], []
            raise error

    async def wait_checks(self) -> None:
        """Wait for the checks in flight (at shutdown, after :meth:`run` was cancelled)."""
        if self._checks:
            await asyncio.wait(set(self._checks))

    async def aggregate_once(self, check_time: float) -> int:
        """Check every group once at ``check_time``; return the number of tasks enqueued."""
        enqueued = 0
        for qname in self._queues:
            try:
                groups = await self._driver.run(aggregation_ops.list_groups(qname))
            except AsynqError as exc:
                self._log.error("Failed to list groups in queue %r: %s", qname, exc)
                continue
            for group in groups:
                if await self._aggregate_group(qname, group, check_time):
                    enqueued += 1
        return enqueued

    async def _aggregate_group(self, qname: str, group: str, check_time: float) -> bool:
        try:
            set_id = await self._driver.run(
                aggregation_ops.aggregation_check(
                    qname,
                    group,
                    check_time,
                    self._grace,
                    self._max_delay,
                    self._max_size,
                    self._clock.now(),
                )
            )
        except AsynqError as exc:
            self._log.error(
                "Failed to run aggregation check: queue=%r group=%r: %s", qname, group, exc
            )
            return False
        if not set_id:
            return False
        where = f"queue={qname!r} group={group!r} setID={set_id!r}"
        try:
            members, _deadline = await self._driver.run(
                aggregation_ops.read_aggregation_set(qname, group, set_id)
            )
        except AsynqError as exc:
            self._log.error("Failed to read aggregation set: %s: %s", where, exc)
            return False
        msgs = [m for m in members if not isinstance(m, bytes)]
        if len(msgs) < len(members):
            # Deleted with the set once the others are aggregated: nothing could ever run them.
            self._log.error(
                "Dropping %d task(s) of aggregation set %s: their message cannot be decoded",
                len(members) - len(msgs),
                where,
            )
            if not msgs:
                await self._delete_set(qname, group, set_id, where)
                return False
        try:
            aggregated = await self._aggregate(group, [plain_task(m) for m in msgs])
            await self._client.enqueue(aggregated, queue=qname)
        except Exception as exc:
            # The set stays; the recoverer returns its tasks to the group after its deadline.
            self._log.error("Failed to enqueue aggregated task (%s): %s", where, exc)
            return False
        await self._delete_set(qname, group, set_id, where)
        return True

    async def _delete_set(self, qname: str, group: str, set_id: str, where: str) -> None:
        try:
            await self._driver.run(aggregation_ops.delete_aggregation_set(qname, group, set_id))
        except AsynqError as exc:
            self._log.warning("Failed to delete aggregation set: %s: %s", where, exc)

    async def _aggregate(self, group: str, tasks: list[Task]) -> Task:
        fn: Any = self._aggregator
        if isinstance(fn, GroupAggregator):
            fn = fn.aggregate
        if inspect.iscoroutinefunction(fn):
            result = await fn(group, tasks)
        else:
            loop = asyncio.get_running_loop()
            ctx = contextvars.copy_context()
            result = await loop.run_in_executor(self._executor, ctx.run, fn, group, tasks)
            if inspect.isawaitable(result):
                result = await result
        if not isinstance(result, Task):
            raise TypeError(f"group aggregator returned {type(result).__name__}, not a Task")
        return result
