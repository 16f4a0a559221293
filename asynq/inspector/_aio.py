"""The asyncio :class:`AsyncInspector`, the source of its generated blocking twin."""

from __future__ import annotations

from asynq._base.clock import Clock
from asynq._broker.drivers import AsyncDriver, AsyncFacade
from asynq._resolve import is_cluster, resolve_async
from asynq._snapshots import (
    ClusterNode,
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntry,
    ServerInfo,
)
from asynq._task import TaskInfo
from asynq.connection import AsyncRedisLike
from asynq.inspector._core import _A, _C, _G, _P, _R, _S, _X, DEFAULT_PAGE_SIZE, _InspectorCore


class AsyncInspector(AsyncFacade):
    """Inspect and manage queues, tasks, servers and schedulers from asyncio code.

    The same methods as the blocking :class:`Inspector`, as coroutines.

    Args:
        redis: A Redis URL (see :class:`~asynq.RedisConnection`), a ``RedisConnection``, or an
            existing ``redis.asyncio.Redis``/``RedisCluster`` (then the caller keeps ownership).
            Defaults to ``$ASYNQ_REDIS_URL`` or ``redis://127.0.0.1:6379/0``.
        clock: Where "now" comes from (tests pass a ``FakeClock``).

    Every method may also raise :class:`~asynq.BrokerError` when Redis fails. Like Go, most
    methods first check that the queue is registered in ``asynq:queues`` and raise
    :class:`~asynq.QueueNotFoundError` otherwise; ``groups``, ``pause_queue``,
    ``unpause_queue`` and the cluster methods do not.
    """

    def __init__(self, redis: AsyncRedisLike | None = None, *, clock: Clock | None = None) -> None:
        client, self._owned = resolve_async(redis)
        self._driver = AsyncDriver(client)
        self._core = _InspectorCore(clock, is_cluster(client))

    # ---- queues -------------------------------------------------------------------------

    async def queues(self) -> list[str]:
        """The names of all registered queues (``asynq:queues``), sorted.

        Returns:
            The queue names.

        Raises:
            BrokerError: Redis failed.
        """
        return await self._driver.run(self._core.queues())

    async def get_queue_info(self, queue: str) -> QueueInfo:
        """A snapshot of one queue: sizes per state, today's and total counters, latency, memory.

        ``latency`` is the age of the oldest pending task's ``pending_since``; it is zero when
        that task has none (a task moved back to pending by ``run_task``,
        docs/compatibility.md#quirk-pending-since-not-restored).
        ``memory_usage`` is an estimate from sampled tasks, computed as Go does.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.get_queue_info(queue))

    async def history(self, queue: str, days: int = 7) -> list[DailyStats]:
        """Processed and failed counts of the last ``days`` UTC days, today first.

        Each ``date`` is now minus a whole number of days (not truncated to midnight).

        Raises:
            ValidationError: ``queue`` is blank or ``days < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.history(queue, days))

    async def groups(self, queue: str) -> list[GroupInfo]:
        """The groups of a queue that hold tasks waiting for aggregation, with their sizes.

        Raises:
            ValidationError: ``queue`` is blank.
        """
        return await self._driver.run(self._core.groups(queue))

    async def pause_queue(self, queue: str) -> None:
        """Stop servers from taking tasks of ``queue`` (tasks can still be enqueued).

        Raises:
            ValidationError: ``queue`` is blank.
            QueueAlreadyPausedError: the queue is paused already.
        """
        await self._driver.run(self._core.pause_queue(queue))

    async def unpause_queue(self, queue: str) -> None:
        """Let servers take tasks of a paused queue again.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotPausedError: the queue is not paused.
        """
        await self._driver.run(self._core.unpause_queue(queue))

    async def delete_queue(self, queue: str, force: bool = False) -> None:
        """Delete a queue: its pending, active, scheduled, retry and archived tasks, and its name.

        Without ``force`` the queue must hold none of those tasks. Like Go, completed and
        aggregating tasks, the paused flag, the counters and uniqueness locks are left behind
        (docs/compatibility.md#quirk-remove-queue-leftovers).

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
            QueueNotEmptyError: ``force`` is false and the queue holds tasks.
            FailedPreconditionError: ``force`` is true and a task is active.
        """
        await self._driver.run(self._core.delete_queue(queue, force))

    # ---- listing ------------------------------------------------------------------------

    async def list_pending_tasks(
        self, queue: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of pending tasks, oldest first: page 1 holds the tasks that run next.

        Raises:
            ValidationError: ``queue`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_messages(queue, _P, page, page_size))

    async def list_active_tasks(
        self, queue: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of active tasks, oldest first; ``is_orphaned`` marks expired leases.

        An orphaned task's worker stopped extending its lease (it probably crashed); a
        server's recoverer will retry it.

        Raises:
            ValidationError: ``queue`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_messages(queue, _A, page, page_size))

    async def list_scheduled_tasks(
        self, queue: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of scheduled tasks, soonest ``next_process_at`` first.

        Raises:
            ValidationError: ``queue`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_zset(queue, _S, page, page_size))

    async def list_retry_tasks(
        self, queue: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of tasks waiting for a retry, soonest ``next_process_at`` first.

        Raises:
            ValidationError: ``queue`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_zset(queue, _R, page, page_size))

    async def list_archived_tasks(
        self, queue: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of archived tasks, archived longest ago first.

        Raises:
            ValidationError: ``queue`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_zset(queue, _X, page, page_size))

    async def list_completed_tasks(
        self, queue: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of retained completed tasks, soonest expiry first.

        Raises:
            ValidationError: ``queue`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_zset(queue, _C, page, page_size))

    async def list_aggregating_tasks(
        self, queue: str, group: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[TaskInfo]:
        """One page of the tasks of ``group`` waiting for aggregation, added earliest first.

        Raises:
            ValidationError: ``queue`` or ``group`` is blank, ``page < 1`` or ``page_size < 1``.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.list_zset(queue, _G, page, page_size, group))

    # ---- single tasks -------------------------------------------------------------------

    async def get_task_info(self, queue: str, task_id: str) -> TaskInfo:
        """Everything Redis holds about one task.

        ``next_process_at`` is the current second for a pending task, the ZSET score for a
        scheduled or retry task, and ``None`` otherwise.

        Raises:
            ValidationError: ``queue`` or ``task_id`` is blank.
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: no task with that id is in the queue.
        """
        return await self._driver.run(self._core.get_task_info(queue, task_id))

    async def delete_task(self, queue: str, task_id: str) -> None:
        """Delete a task that is not active, releasing the uniqueness lock it holds.

        Raises:
            ValidationError: ``queue`` or ``task_id`` is blank.
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: no task with that id is in the queue.
            TaskAlreadyRunningError: the task is active (use ``cancel_processing``).
        """
        await self._driver.run(self._core.delete_task(queue, task_id))

    async def run_task(self, queue: str, task_id: str) -> None:
        """Make a scheduled, retry, archived, completed or aggregating task pending now.

        Like Go, ``retried`` and the last error are kept
        (docs/compatibility.md#quirk-run-keeps-retry-state).

        Raises:
            ValidationError: ``queue`` or ``task_id`` is blank.
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: no task with that id is in the queue.
            TaskAlreadyRunningError: the task is active.
            TaskAlreadyPendingError: the task is pending already.
        """
        await self._driver.run(self._core.run_task(queue, task_id))

    async def archive_task(self, queue: str, task_id: str) -> None:
        """Archive a pending, scheduled, retry, completed or aggregating task.

        Raises:
            ValidationError: ``queue`` or ``task_id`` is blank.
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: no task with that id is in the queue.
            TaskAlreadyArchivedError: the task is archived already.
            TaskAlreadyRunningError: the task is active (use ``cancel_processing``).
        """
        await self._driver.run(self._core.archive_task(queue, task_id))

    async def update_task_payload(self, queue: str, task_id: str, payload: bytes) -> TaskInfo:
        """Replace the payload of a scheduled task; return the updated task.

        Raises:
            ValidationError: ``queue`` or ``task_id`` is blank, or ``payload`` is not bytes.
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: no task with that id is in the queue.
            FailedPreconditionError: the task is not scheduled.
        """
        return await self._driver.run(self._core.update_task_payload(queue, task_id, payload))

    async def cancel_processing(self, task_id: str) -> None:
        """Ask every server to cancel the task if it is running (``PUBLISH asynq:cancel``).

        Best effort, as in Go: nothing tells whether a server was running the task.

        Raises:
            ValidationError: ``task_id`` is blank.
        """
        await self._driver.run(self._core.cancel_processing(task_id))

    # ---- bulk ---------------------------------------------------------------------------

    async def delete_all_pending_tasks(self, queue: str) -> int:
        """Delete every pending task; return how many were deleted.

        Like Go, their uniqueness locks are not released (they expire with their TTL).

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.delete_all(queue, _P))

    async def delete_all_scheduled_tasks(self, queue: str) -> int:
        """Delete every scheduled task, releasing their uniqueness locks; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.delete_all(queue, _S))

    async def delete_all_retry_tasks(self, queue: str) -> int:
        """Delete every retry task, releasing their uniqueness locks; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.delete_all(queue, _R))

    async def delete_all_archived_tasks(self, queue: str) -> int:
        """Delete every archived task, releasing their uniqueness locks; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.delete_all(queue, _X))

    async def delete_all_completed_tasks(self, queue: str) -> int:
        """Delete every retained completed task; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.delete_all(queue, _C))

    async def delete_all_aggregating_tasks(self, queue: str, group: str) -> int:
        """Delete every task of ``group``; return the count.

        Raises:
            ValidationError: ``queue`` or ``group`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.delete_all(queue, _G, group))

    async def run_all_scheduled_tasks(self, queue: str) -> int:
        """Make every scheduled task pending now; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.run_all(queue, _S))

    async def run_all_retry_tasks(self, queue: str) -> int:
        """Make every retry task pending now; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.run_all(queue, _R))

    async def run_all_archived_tasks(self, queue: str) -> int:
        """Make every archived task pending now; return the count.

        Like Go, ``retried`` is kept: a task that used up its retries is archived again on its
        next failure (docs/compatibility.md#quirk-run-keeps-retry-state).

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.run_all(queue, _X))

    async def run_all_aggregating_tasks(self, queue: str, group: str) -> int:
        """Make every task of ``group`` pending now, each on its own; return the count.

        Raises:
            ValidationError: ``queue`` or ``group`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.run_all(queue, _G, group))

    async def archive_all_pending_tasks(self, queue: str) -> int:
        """Archive every pending task; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.archive_all(queue, _P))

    async def archive_all_scheduled_tasks(self, queue: str) -> int:
        """Archive every scheduled task; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.archive_all(queue, _S))

    async def archive_all_retry_tasks(self, queue: str) -> int:
        """Archive every retry task; return the count.

        Raises:
            ValidationError: ``queue`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.archive_all(queue, _R))

    async def archive_all_aggregating_tasks(self, queue: str, group: str) -> int:
        """Archive every task of ``group``; return the count.

        Raises:
            ValidationError: ``queue`` or ``group`` is blank.
            QueueNotFoundError: the queue is not registered.
        """
        return await self._driver.run(self._core.archive_all(queue, _G, group))

    # ---- servers, schedulers, cluster ---------------------------------------------------

    async def servers(self) -> list[ServerInfo]:
        """Live worker servers (Go or Python), with the tasks each ran at its last heartbeat.

        Servers are sorted by host, pid and id, their workers by start time (Go's order is
        random). Expired heartbeat entries are pruned from Redis, as Go does.

        Returns:
            The servers.

        Raises:
            BrokerError: Redis failed.
        """
        return await self._driver.run(self._core.servers())

    async def scheduler_entries(self) -> list[SchedulerEntry]:
        """The periodic tasks registered by live schedulers (Go or Python).

        ``opts`` holds the options Go's Inspector understands, in Go's ``Option.String()``
        form; ``TaskID`` and ``Group`` options are dropped, as in Go
        (docs/compatibility.md#quirk-scheduler-option-strings).

        Returns:
            The entries.

        Raises:
            BrokerError: Redis failed.
        """
        return await self._driver.run(self._core.scheduler_entries())

    async def list_scheduler_enqueue_events(
        self, entry_id: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[SchedulerEnqueueEvent]:
        """One page of the enqueues made by a scheduler entry, newest first.

        Raises:
            ValidationError: ``entry_id`` is blank, ``page < 1`` or ``page_size < 1``.
        """
        return await self._driver.run(
            self._core.list_scheduler_enqueue_events(entry_id, page, page_size)
        )

    async def cluster_key_slot(self, queue: str) -> int:
        """The Redis Cluster hash slot holding the queue's keys (``CLUSTER KEYSLOT``).

        It is computed locally with Redis Cluster's hash function, so it also answers on a
        standalone Redis (where Go's call fails).

        Raises:
            ValidationError: ``queue`` is blank.
        """
        return await self._driver.run(self._core.cluster_key_slot(queue))

    async def cluster_nodes(self, queue: str) -> list[ClusterNode]:
        """The Redis Cluster nodes (primary first, then replicas) serving the queue's slot.

        Raises:
            ValidationError: ``queue`` is blank.
            BrokerError: Redis is not a cluster.
        """
        return await self._driver.run(self._core.cluster_nodes(queue))

    async def redis_info(self) -> dict[str, str]:
        """``INFO`` of the Redis server (``CLUSTER INFO`` on a cluster) as ``key: value`` text.

        Returns:
            Each ``key:value`` line of the reply.

        Raises:
            BrokerError: Redis failed.
        """
        return await self._driver.run(self._core.redis_info())
