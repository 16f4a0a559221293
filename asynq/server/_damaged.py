"""Tasks the worker took but cannot run, because their data in Redis is damaged.

A dequeue moves a task to active before anyone reads its message, and a lease scan finds
active tasks by id. Either may meet a task that cannot run: its message does not decode, is
missing, or names another id or queue than its key (its outcome would then be written under
the wrong key and the task would stay active for good), or its key is missing or not a hash.
Left active, such a task would be leased, found expired, and found again on every pass.

:func:`inspect` tells a runnable task from a damaged one, and :func:`dispose` ends the damaged
one, the way a handler failure with no retry left ends a task:

- a task whose hash exists is archived (the effects of Go's archive script: out of active and
  lease, into ``archived``, the processed and failed counters counted) with an ``error_msg``
  saying what is wrong. Its stored message is replaced by one that Go's and this library's
  readers can decode: the message itself when only its id or queue was wrong (corrected, so
  that running it again from the archive works), else an empty one naming the id and queue.
  The original bytes stay in the hash's ``damaged_msg`` field;
- an id whose task key is missing, or holds another type than a hash, names no task: it is
  taken off the active list and the lease set, and the key (if any) is left alone.

Either way an error is logged with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from asynq._base.codec import TaskMessage, decode_message
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq._broker.ops.server_ops import Taken
from asynq.errors import AsynqError

__all__ = ["Damage", "dispose", "inspect"]


@dataclass(frozen=True, slots=True)
class Damage:
    """Why a task taken from ``queue`` cannot run, and what it is archived as."""

    queue: str
    taken: Taken
    reason: str
    #: The message to archive the task with; ``None`` when there is no task to archive.
    salvage: TaskMessage | None


def inspect(queue: str, taken: Taken) -> TaskMessage | Damage:
    """The decoded message of ``taken`` (from ``queue``), or what is wrong with it."""
    try:
        task_id = taken.id.decode()
    except UnicodeDecodeError:
        return Damage(queue, taken, f"task id {taken.id!r} is not UTF-8", None)
    if taken.kind != "hash":
        what = "is missing" if taken.kind == "none" else f"holds a {taken.kind}, not a hash"
        return Damage(queue, taken, f"the task key of task {task_id} {what}", None)
    if taken.data is None:
        return Damage(
            queue, taken, f"task {task_id} has no message", TaskMessage(id=task_id, queue=queue)
        )
    try:
        msg = decode_message(taken.data)
    except DecodeError as exc:
        return Damage(
            queue,
            taken,
            f"the message of task {task_id} cannot be decoded: {exc}",
            TaskMessage(id=task_id, queue=queue),
        )
    if msg.id != task_id or msg.queue != queue:
        reason = (
            f"the message of task {task_id} in queue {queue!r} names task {msg.id!r} "
            f"in queue {msg.queue!r}"
        )
        corrected = TaskMessage()
        corrected.CopyFrom(msg)
        corrected.id, corrected.queue = task_id, queue
        return Damage(queue, taken, reason, corrected)
    return msg


async def dispose(driver: AsyncDriver, log: logging.Logger, damage: Damage, now: float) -> None:
    """Archive (or release) a damaged task, as the module docstring says. Never raises an
    :class:`~asynq.errors.AsynqError`: on a Redis error the task stays active, and the
    recoverer meets it again once its lease has expired."""
    error = f"asynq: damaged task data: {damage.reason}"
    try:
        if damage.salvage is None:
            await driver.run(server_ops.release(damage.queue, damage.taken.id))
            log.error("%s; its id was taken off queue %r", error, damage.queue)
            return
        salvage = damage.salvage
        await driver.run(server_ops.run_call(server_ops.archive_call(salvage, error, now)))
        if damage.taken.data is not None:
            await driver.run(
                server_ops.keep_damaged_message(damage.queue, salvage.id, damage.taken.data)
            )
        log.error("%s; the task was archived", error)
    except AsynqError as exc:
        log.error("%s; could not archive it: %s", error, exc)
