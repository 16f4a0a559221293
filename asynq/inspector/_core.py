"""What both inspectors share: argument checks and the broker op of every call (no I/O)."""

from __future__ import annotations

from asynq._base.clock import SYSTEM_CLOCK, Clock
from asynq._broker.calls import Op
from asynq._broker.ops import (
    inspect_bulk_ops,
    inspect_queue_ops,
    inspect_server_ops,
    inspect_task_ops,
)
from asynq._snapshots import (
    ClusterNode,
    DailyStats,
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntry,
    ServerInfo,
)
from asynq._task import TaskInfo, TaskState, validate_text
from asynq.errors import ValidationError

#: Tasks per page when a listing names no ``page_size`` (Go's default, 30).
DEFAULT_PAGE_SIZE = 30


def _queue(queue: str) -> str:
    return validate_text("queue name", queue)


def _name(value: str, what: str) -> str:
    return validate_text(what, value)


def _paging(page: int, page_size: int) -> tuple[int, int]:
    """Validate 1-based paging; return Go's 0-based page and the size."""
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise ValidationError(f"page must be an integer >= 1, not {page!r}")
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        raise ValidationError(f"page_size must be an integer >= 1, not {page_size!r}")
    return page - 1, page_size


class _InspectorCore:
    """Argument checks and op construction shared by both inspectors; no I/O."""

    def __init__(self, clock: Clock | None, cluster: bool) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.cluster = cluster

    def _sec(self) -> int:
        return int(self.clock.now() // 1)

    # queues
    def queues(self) -> Op[list[str]]:
        return inspect_queue_ops.all_queues()

    def get_queue_info(self, queue: str) -> Op[QueueInfo]:
        return inspect_queue_ops.queue_info(_queue(queue), self.clock.now_ns())

    def history(self, queue: str, days: int) -> Op[list[DailyStats]]:
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ValidationError(f"the number of days must be positive, not {days!r}")
        return inspect_queue_ops.history(_queue(queue), days, self.clock.now())

    def groups(self, queue: str) -> Op[list[GroupInfo]]:
        return inspect_queue_ops.groups(_queue(queue))

    def pause_queue(self, queue: str) -> Op[None]:
        return inspect_queue_ops.pause(_queue(queue), self.clock.now())

    def unpause_queue(self, queue: str) -> Op[None]:
        return inspect_queue_ops.unpause(_queue(queue))

    def delete_queue(self, queue: str, force: bool) -> Op[None]:
        return inspect_queue_ops.remove_queue(_queue(queue), bool(force))

    # listing
    def list_messages(
        self, queue: str, state: TaskState, page: int, page_size: int
    ) -> Op[list[TaskInfo]]:
        p, size = _paging(page, page_size)
        if state is TaskState.ACTIVE:
            return inspect_task_ops.list_active(_queue(queue), p, size, self.clock.now())
        return inspect_task_ops.list_messages(_queue(queue), state, p, size, self.clock.now())

    def list_zset(
        self, queue: str, state: TaskState, page: int, page_size: int, group: str = ""
    ) -> Op[list[TaskInfo]]:
        p, size = _paging(page, page_size)
        if state is TaskState.AGGREGATING:
            group = _name(group, "group name")
        return inspect_task_ops.list_zset(_queue(queue), state, p, size, group)

    # single tasks
    def get_task_info(self, queue: str, task_id: str) -> Op[TaskInfo]:
        tid = _name(task_id, "task id")
        return inspect_task_ops.get_task_info(_queue(queue), tid, self._sec())

    def delete_task(self, queue: str, task_id: str) -> Op[None]:
        return inspect_task_ops.delete_task(_queue(queue), _name(task_id, "task id"))

    def run_task(self, queue: str, task_id: str) -> Op[None]:
        return inspect_task_ops.run_task(_queue(queue), _name(task_id, "task id"))

    def archive_task(self, queue: str, task_id: str) -> Op[None]:
        tid = _name(task_id, "task id")
        return inspect_task_ops.archive_task(_queue(queue), tid, self._sec())

    def update_task_payload(self, queue: str, task_id: str, payload: bytes) -> Op[TaskInfo]:
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise ValidationError(f"payload must be bytes, not {type(payload).__name__}")
        tid = _name(task_id, "task id")
        return inspect_task_ops.update_task_payload(_queue(queue), tid, bytes(payload), self._sec())

    def cancel_processing(self, task_id: str) -> Op[int]:
        return inspect_server_ops.cancel_processing(_name(task_id, "task id"))

    # bulk
    def delete_all(self, queue: str, state: TaskState, group: str = "") -> Op[int]:
        if state is TaskState.AGGREGATING:
            group = _name(group, "group name")
        return inspect_bulk_ops.delete_all(_queue(queue), state, group)

    def run_all(self, queue: str, state: TaskState, group: str = "") -> Op[int]:
        if state is TaskState.AGGREGATING:
            group = _name(group, "group name")
        return inspect_bulk_ops.run_all(_queue(queue), state, group)

    def archive_all(self, queue: str, state: TaskState, group: str = "") -> Op[int]:
        if state is TaskState.AGGREGATING:
            group = _name(group, "group name")
        return inspect_bulk_ops.archive_all(_queue(queue), state, self._sec(), group)

    # servers, schedulers, cluster
    def servers(self) -> Op[list[ServerInfo]]:
        return inspect_server_ops.servers(self._sec())

    def scheduler_entries(self) -> Op[list[SchedulerEntry]]:
        return inspect_server_ops.scheduler_entries(self._sec())

    def list_scheduler_enqueue_events(
        self, entry_id: str, page: int, page_size: int
    ) -> Op[list[SchedulerEnqueueEvent]]:
        p, size = _paging(page, page_size)
        entry = _name(entry_id, "entry id")
        return inspect_server_ops.scheduler_enqueue_events(entry, p, size)

    def cluster_key_slot(self, queue: str) -> Op[int]:
        return inspect_queue_ops.cluster_key_slot(_queue(queue))

    def cluster_nodes(self, queue: str) -> Op[list[ClusterNode]]:
        return inspect_queue_ops.cluster_nodes(_queue(queue))

    def redis_info(self) -> Op[dict[str, str]]:
        return inspect_queue_ops.redis_info(self.cluster)


_P, _A, _S, _R = TaskState.PENDING, TaskState.ACTIVE, TaskState.SCHEDULED, TaskState.RETRY
_X, _C, _G = TaskState.ARCHIVED, TaskState.COMPLETED, TaskState.AGGREGATING
