"""Inspector ops on tasks: list a page of a state, read one task, run/archive/delete one task.

Each op mirrors one Go ``RDB`` method of ``internal/rdb/inspect.go`` (named in its docstring)
and, like it, first checks that the queue is registered in ``asynq:queues``.

Paging is Go's: pages are 0-based here (the Inspector passes ``page - 1``). The pending and
active lists are pushed on the left, so a page is read from the right end and reversed: page 0
holds the tasks that have waited longest, oldest first.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError

from asynq._base import keys
from asynq._base.codec import TaskMessage, decode_message, encode_message
from asynq._broker.calls import Command, Op, ReplyError, Script, as_int, as_text
from asynq._broker.ops.inspect_queue_ops import require_queue
from asynq._task import TaskInfo, TaskState
from asynq.errors import (
    FailedPreconditionError,
    TaskAlreadyArchivedError,
    TaskAlreadyPendingError,
    TaskAlreadyRunningError,
    TaskNotFoundError,
    UnreadableDataError,
)

#: Archived tasks older than this many days are dropped when something is archived.
ARCHIVE_MAX_AGE_DAYS = 90
#: The archive keeps fewer than this many tasks: at most 9 999 after a trim
#: (docs/compatibility.md#quirk-archive-size-limit).
ARCHIVE_MAX_SIZE = 10_000

#: The ZSET key builder of each state kept in a queue-wide ZSET.
ZSET_KEYS = {
    TaskState.SCHEDULED: keys.scheduled_key,
    TaskState.RETRY: keys.retry_key,
    TaskState.ARCHIVED: keys.archived_key,
    TaskState.COMPLETED: keys.completed_key,
}


def archive_cutoff(now_sec: int) -> int:
    """The Unix second before which archived entries are trimmed (Go ``AddDate(0, 0, -90)``)."""
    return now_sec - ARCHIVE_MAX_AGE_DAYS * 86_400


def _decode(data: Any) -> TaskMessage | None:
    """Decode a ``msg`` field; ``None`` for a corrupt one.

    A message with no id is corrupt too: every task Go or Python writes has one.
    """
    try:
        msg = decode_message(data)
    except (DecodeError, ValueError, TypeError):
        return None
    return msg if msg.id else None


def _info(
    qname: str,
    task_id: Any,
    data: Any,
    state: TaskState,
    next_process_at: datetime | float | None,
    result: Any,
) -> TaskInfo | None:
    """The info of one listed task; ``None`` when its hash is gone (Go skips those), an
    :meth:`~asynq.TaskInfo.unreadable_task` when its message cannot be decoded (Go skips
    those too, but then an operator could never see or delete it)."""
    if data is None:
        return None
    msg = _decode(data)
    if msg is None:
        return TaskInfo.unreadable_task(as_text(task_id), qname, state)
    return TaskInfo.from_message(
        msg, state, next_process_at=next_process_at, result=_result(result)
    )


def _score(value: Any) -> float:
    """A ZSET score reply as a float (``inf`` included; readers mark it unreadable)."""
    try:
        return float(as_text(value))
    except ValueError:
        return math.nan


def _result(data: Any) -> bytes | None:
    # Go reports an empty result as nil.
    return bytes(data) if data else None


def _bounds(page: int, size: int) -> tuple[int, int]:
    """Go's ``Pagination.start()/stop()`` for a 0-based page."""
    return size * page, size * page + size - 1


def list_messages(
    qname: str, state: TaskState, page: int, size: int, now: float
) -> Op[list[TaskInfo]]:
    """``RDB.ListPending`` / ``RDB.ListActive``: one page of the list, oldest task first.

    Pending tasks report ``next_process_at = now``; active ones report none. ``is_orphaned``
    is left ``False`` here (see :func:`list_active`).
    """
    yield from require_queue(qname)
    key = keys.pending_key(qname) if state is TaskState.PENDING else keys.active_key(qname)
    start, stop = _bounds(page, size)
    reply = yield Script(
        "inspect_list_messages", (key,), (-stop - 1, -start - 1, keys.task_key_prefix(qname))
    )
    nxt = datetime.fromtimestamp(now, UTC) if state is TaskState.PENDING else None
    infos = []
    for i in range(0, len(reply), 3):
        info = _info(qname, reply[i], reply[i + 1], state, nxt, reply[i + 2])
        reply[i + 1] = None  # the message's bytes: free them now (a payload may be huge)
        if info is not None:
            infos.append(info)
    infos.reverse()
    return infos


def list_active(qname: str, page: int, size: int, now: float) -> Op[list[TaskInfo]]:
    """``Inspector.ListActiveTasks``: a page of active tasks, flagging those whose lease expired.

    A task is orphaned when its lease score is ``<= now`` (whole seconds): its worker stopped
    extending it, so a recoverer will retry it.
    """
    infos = yield from list_messages(qname, TaskState.ACTIVE, page, size, now)
    expired = yield Command(("ZRANGEBYSCORE", keys.lease_key(qname), "-inf", int(now // 1)))
    orphans = {as_text(tid) for tid in expired}
    return [replace(info, is_orphaned=True) if info.id in orphans else info for info in infos]


def list_zset(
    qname: str, state: TaskState, page: int, size: int, group: str = ""
) -> Op[list[TaskInfo]]:
    """``RDB.ListScheduled/Retry/Archived/Completed/Aggregating``: a page, lowest score first.

    Scheduled and retry tasks report their score as ``next_process_at``.
    """
    yield from require_queue(qname)
    key = (
        keys.group_key(qname, group) if state is TaskState.AGGREGATING else ZSET_KEYS[state](qname)
    )
    start, stop = _bounds(page, size)
    reply = yield Script("inspect_list_zset", (key,), (start, stop, keys.task_key_prefix(qname)))
    with_next = state in (TaskState.SCHEDULED, TaskState.RETRY)
    infos = []
    for i in range(0, len(reply), 4):
        nxt = _score(reply[i + 2]) if with_next else None
        info = _info(qname, reply[i], reply[i + 1], state, nxt, reply[i + 3])
        reply[i + 1] = None  # as in list_messages
        if info is not None:
            infos.append(info)
    return infos


def _get_call(qname: str, task_id: str, now_sec: int) -> Script:
    return Script(
        "inspect_get_task",
        (keys.task_key(qname, task_id),),
        (task_id, now_sec, keys.queue_key_prefix(qname)),
    )


def get_task_info(qname: str, task_id: str, now_sec: int) -> Op[TaskInfo]:
    """``RDB.GetTaskInfo``: one task, with its next process time (``now`` for a pending task).

    Raises:
        QueueNotFoundError: the queue is not registered.
        TaskNotFoundError: no such task.
        BrokerError: the stored task cannot be decoded.
    """
    yield from require_queue(qname)
    _msg, info = yield from _read_task(qname, task_id, now_sec)
    return info


def _read_task(qname: str, task_id: str, now_sec: int) -> Op[tuple[TaskMessage | None, TaskInfo]]:
    """The task's message (``None`` when it cannot be decoded) and its info."""
    try:
        reply = yield _get_call(qname, task_id, now_sec)
    except ReplyError as exc:
        if str(exc) == "NOT FOUND":
            raise TaskNotFoundError(qname, task_id) from None
        raise
    msg = None if reply[0] is None else _decode(reply[0])
    state_text = as_text(reply[1]) if reply[1] is not None else ""
    if state_text not in TaskState.__members__.values():
        raise UnreadableDataError(f"task {task_id} in queue {qname!r} holds an unknown state")
    if msg is None:
        return None, TaskInfo.unreadable_task(task_id, qname, TaskState(state_text))
    info = TaskInfo.from_message(
        msg, TaskState(state_text), next_process_at=_score(reply[2]), result=_result(reply[3])
    )
    return msg, info


def run_task(qname: str, task_id: str) -> Op[None]:
    """``RDB.RunTask``: move a scheduled/retry/archived/completed/aggregating task to pending.

    Raises:
        QueueNotFoundError, TaskNotFoundError, TaskAlreadyRunningError, TaskAlreadyPendingError.
    """
    yield from require_queue(qname)
    code = as_int(
        (
            yield Script(
                "inspect_run_task",
                (keys.task_key(qname, task_id), keys.pending_key(qname), keys.groups_key(qname)),
                (task_id, keys.queue_key_prefix(qname), keys.group_key_prefix(qname)),
            )
        )
    )
    if code == 0:
        raise TaskNotFoundError(qname, task_id)
    if code == -1:
        raise TaskAlreadyRunningError("task is already running")
    if code == -2:
        raise TaskAlreadyPendingError("task is already in pending state")


def archive_task(qname: str, task_id: str, now_sec: int) -> Op[None]:
    """``RDB.ArchiveTask``: move a task that is neither active nor archived to the archive.

    Raises:
        QueueNotFoundError, TaskNotFoundError, TaskAlreadyArchivedError, TaskAlreadyRunningError.
    """
    yield from require_queue(qname)
    code = as_int(
        (
            yield Script(
                "inspect_archive_task",
                (
                    keys.task_key(qname, task_id),
                    keys.archived_key(qname),
                    keys.groups_key(qname),
                ),
                (
                    task_id,
                    now_sec,
                    archive_cutoff(now_sec),
                    ARCHIVE_MAX_SIZE,
                    keys.queue_key_prefix(qname),
                    keys.group_key_prefix(qname),
                ),
            )
        )
    )
    if code == 0:
        raise TaskNotFoundError(qname, task_id)
    if code == -1:
        raise TaskAlreadyArchivedError(f"task is already archived: id={task_id}, queue={qname}")
    if code == -2:
        raise TaskAlreadyRunningError(
            "cannot archive task in active state. use cancel_processing instead."
        )


def delete_task(qname: str, task_id: str) -> Op[None]:
    """``RDB.DeleteTask``: delete a task that is not active, releasing its uniqueness lock.

    Raises:
        QueueNotFoundError, TaskNotFoundError, TaskAlreadyRunningError.
    """
    yield from require_queue(qname)
    code = as_int(
        (
            yield Script(
                "inspect_delete_task",
                (
                    keys.task_key(qname, task_id),
                    keys.groups_key(qname),
                    keys.pending_key(qname),
                    *(ZSET_KEYS[state](qname) for state in ZSET_KEYS),
                ),
                (task_id, keys.queue_key_prefix(qname), keys.group_key_prefix(qname)),
            )
        )
    )
    if code == 0:
        raise TaskNotFoundError(qname, task_id)
    if code == -1:
        raise TaskAlreadyRunningError(
            "cannot delete task in active state. use cancel_processing instead."
        )


def update_task_payload(qname: str, task_id: str, payload: bytes, now_sec: int) -> Op[TaskInfo]:
    """``RDB.UpdateTaskPayload``: replace the payload of a scheduled task.

    The message is re-encoded the way Go's struct round trip does, so fields Go does not know
    are dropped.

    Raises:
        QueueNotFoundError, TaskNotFoundError, FailedPreconditionError (not scheduled).
    """
    yield from require_queue(qname)
    msg, info = yield from _read_task(qname, task_id, now_sec)
    if msg is None:
        raise UnreadableDataError(f"task {task_id} in queue {qname!r} holds undecodable data")
    msg.DiscardUnknownFields()
    msg.payload = payload
    code = as_int(
        (
            yield Script(
                "inspect_update_payload", (keys.task_key(qname, task_id),), (encode_message(msg),)
            )
        )
    )
    if code == 0:
        raise TaskNotFoundError(qname, task_id)
    if code == -1:
        raise FailedPreconditionError("cannot update task that is not in scheduled state.")
    return TaskInfo.from_message(
        msg, TaskState.SCHEDULED, next_process_at=info.next_process_at, result=info.result
    )
