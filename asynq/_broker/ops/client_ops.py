"""Producer-side broker ops: enqueue, schedule and add-to-group, plain and unique.

Each op yields calls and returns nothing on success; it raises
:class:`~asynq.errors.DuplicateTaskError` (script reply -1) or
:class:`~asynq.errors.TaskIDConflictError` (reply 0) like Go's ``RDB`` methods.
``register_queue`` adds ``SADD asynq:queues <q>`` in the same round trip: Go tools see a queue
only once its name is in that set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from asynq._base import keys
from asynq._base.codec import encode_message
from asynq._broker.calls import Command, Op, Pipeline, ReplyError, Script, Stream, as_int
from asynq._options import Composed, Placement
from asynq.errors import AsynqError, DuplicateTaskError, TaskIDConflictError


def write_call(c: Composed, now_ns: int) -> Script:
    """The one script call that writes the composed task to Redis."""
    msg = c.msg
    q, tid = msg.queue, msg.id
    data = encode_message(msg)
    tkey = keys.task_key(q, tid)
    if c.placement is Placement.SCHEDULED:
        score = int(c.process_at // 1)
        if c.unique_ttl is None:
            return Script("schedule", (tkey, keys.scheduled_key(q)), (data, score, tid))
        return Script(
            "schedule_unique",
            (msg.unique_key, tkey, keys.scheduled_key(q)),
            (tid, c.unique_ttl, score, data),
        )
    if c.placement is Placement.GROUP:
        group_keys = (tkey, keys.group_key(q, msg.group_key), keys.groups_key(q))
        group_args: tuple[Any, ...] = (data, tid, now_ns // 1_000_000_000, msg.group_key)
        if c.unique_ttl is None:
            return Script("add_to_group", group_keys, group_args)
        return Script(
            "add_to_group_unique", (*group_keys, msg.unique_key), (*group_args, c.unique_ttl)
        )
    if c.unique_ttl is None:
        return Script("enqueue", (tkey, *keys.hand_off_keys(q)), (data, tid, now_ns))
    return Script(
        "enqueue_unique",
        (msg.unique_key, tkey, *keys.hand_off_keys(q)),
        (tid, c.unique_ttl, data, now_ns),
    )


def check_reply(reply: Any) -> AsynqError | None:
    """Map a write script's reply to the error Go returns, or ``None`` on success."""
    if isinstance(reply, AsynqError):
        return reply
    code = as_int(reply)
    if code == 1:
        return None
    if code == -1:
        return DuplicateTaskError()
    if code == 0:
        return TaskIDConflictError()
    return ReplyError(f"unexpected script reply {reply!r}")


def write(c: Composed, now_ns: int, register_queue: bool) -> Op[None]:
    """Write one task; with ``register_queue`` also ``SADD`` its queue in the same round trip."""
    call = write_call(c, now_ns)
    if register_queue:
        replies = yield Pipeline((Command(("SADD", keys.ALL_QUEUES, c.msg.queue)), call))
        reply = replies[1]
    else:
        reply = yield call
    error = check_reply(reply)
    if error is not None:
        raise error


def write_stream(
    items: Iterable[Composed], now_ns: int, queues_to_register: Sequence[str]
) -> Op[list[AsynqError | None]]:
    """Write many tasks in one round trip, as a :class:`~asynq._broker.calls.Stream`; return the
    error (or None) of each. ``items`` may be produced while the first ones are being sent, so
    producing one must not fail (validate first)."""
    registers = [Command(("SADD", keys.ALL_QUEUES, q)) for q in queues_to_register]
    scripts: Iterable[Command | Script] = (write_call(c, now_ns) for c in items)
    replies = yield Stream(chain(registers, scripts))
    return [check_reply(r) for r in replies[len(registers) :]]
