"""Inspector ops on every task of one state: delete all, run all, archive all.

Each op mirrors one Go ``RDB`` method of ``internal/rdb/inspect.go`` (named in its docstring),
checks that the queue is registered in ``asynq:queues`` first, and returns how many tasks it
moved or deleted.
"""

from __future__ import annotations

from asynq._base import keys
from asynq._broker.calls import Op, Script, as_int
from asynq._broker.ops.inspect_queue_ops import require_queue
from asynq._broker.ops.inspect_task_ops import ARCHIVE_MAX_SIZE, ZSET_KEYS, archive_cutoff
from asynq._task import TaskState


def _count(call: Script) -> Op[int]:
    return as_int((yield call))


def delete_all(qname: str, state: TaskState, group: str = "") -> Op[int]:
    """``RDB.DeleteAll{Pending,Scheduled,Retry,Archived,Completed,Aggregating}Tasks``.

    Only the scheduled/retry/archived/completed form releases the uniqueness locks its tasks
    still hold, as in Go.
    """
    yield from require_queue(qname)
    prefix = keys.task_key_prefix(qname)
    if state is TaskState.PENDING:
        call = Script("inspect_delete_all", (keys.pending_key(qname),), (prefix, "list"))
    elif state is TaskState.AGGREGATING:
        call = Script(
            "inspect_delete_all",
            (keys.group_key(qname, group), keys.groups_key(qname)),
            (prefix, "group", group),
        )
    else:
        call = Script("inspect_delete_all", (ZSET_KEYS[state](qname),), (prefix, "zset"))
    return (yield from _count(call))


def run_all(qname: str, state: TaskState, group: str = "") -> Op[int]:
    """``RDB.RunAll{Scheduled,Retry,Archived,Aggregating}Tasks``: move them all to pending."""
    yield from require_queue(qname)
    prefix = keys.task_key_prefix(qname)
    pending = keys.pending_key(qname)
    if state is TaskState.AGGREGATING:
        call = Script(
            "inspect_run_all",
            (keys.group_key(qname, group), pending, keys.groups_key(qname)),
            (prefix, group),
        )
    else:
        call = Script("inspect_run_all", (ZSET_KEYS[state](qname), pending), (prefix,))
    return (yield from _count(call))


def archive_all(qname: str, state: TaskState, now_sec: int, group: str = "") -> Op[int]:
    """``RDB.ArchiveAll{Pending,Scheduled,Retry,Aggregating}Tasks``: archive them all at ``now``.

    The archive is then trimmed like Go's, leaving the trimmed hashes behind
    (docs/compatibility.md#quirk-archive-size-limit).
    """
    yield from require_queue(qname)
    archived = keys.archived_key(qname)
    common = (now_sec, archive_cutoff(now_sec), ARCHIVE_MAX_SIZE, keys.task_key_prefix(qname))
    if state is TaskState.PENDING:
        call = Script("inspect_archive_all", (keys.pending_key(qname), archived), (*common, "list"))
    elif state is TaskState.AGGREGATING:
        call = Script(
            "inspect_archive_all",
            (keys.group_key(qname, group), archived, keys.groups_key(qname)),
            (*common, "zset", group),
        )
    else:
        call = Script("inspect_archive_all", (ZSET_KEYS[state](qname), archived), (*common, "zset"))
    return (yield from _count(call))
