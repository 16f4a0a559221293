"""Group aggregation ops (Go's ``AggregationCheck``, ``ReadAggregationSet``,
``DeleteAggregationSet``, ``ReclaimStaleAggregationSets`` and ``ListGroups``).
"""

from __future__ import annotations

import math
import uuid

from google.protobuf.message import DecodeError

from asynq._base import keys
from asynq._base.codec import TaskMessage, decode_message
from asynq._broker.calls import Command, Op, ReplyError, Script, as_int, as_str

#: Go's ``aggregationTimeout``: a set not deleted by then is given back to its group.
AGGREGATION_TIMEOUT = 120.0


def list_groups(qname: str) -> Op[list[str]]:
    """The names in ``asynq:{q}:groups``."""
    reply = yield Command(("SMEMBERS", keys.groups_key(qname)))
    return sorted(as_str(g) for g in reply or ())


def aggregation_check(
    qname: str,
    group: str,
    check_time: float,
    grace_period: float,
    max_delay: float,
    max_size: int,
    now: float,
) -> Op[str]:
    """Move a ready group into a new aggregation set; return the set id, or ``""``."""
    set_id = str(uuid.uuid4())
    reply = yield Script(
        "aggregation_check",
        (
            keys.group_key(qname, group),
            keys.aggregation_set_key(qname, group, set_id),
            keys.all_aggregation_sets(qname),
            keys.groups_key(qname),
        ),
        (
            max_size,
            int(max_delay),
            int(grace_period),
            math.floor(now + AGGREGATION_TIMEOUT),
            math.floor(check_time),
            group,
        ),
    )
    code = as_int(reply)
    if code == 1:
        return set_id
    if code == 0:
        return ""
    raise ReplyError(f"unexpected reply from aggregation_check: {reply!r}")


def read_aggregation_set(
    qname: str, group: str, set_id: str
) -> Op[tuple[list[TaskMessage | bytes], float]]:
    """The messages in an aggregation set and the set's deadline (Unix seconds).

    A message that does not decode comes back as its raw bytes, for the caller to report; one
    damaged member must not hold up (or, re-read on every check, block for good) its group.
    """
    set_key = keys.aggregation_set_key(qname, group, set_id)
    msgs, deadline = yield Script(
        "read_aggregation_set",
        (set_key, keys.all_aggregation_sets(qname)),
        (keys.task_key_prefix(qname),),
    )
    decoded = [_decode_or_raw(bytes(m)) for m in msgs or () if m is not None]
    return decoded, float(as_int(deadline))


def _decode_or_raw(data: bytes) -> TaskMessage | bytes:
    try:
        return decode_message(data)
    except DecodeError:
        return data


def delete_aggregation_set(qname: str, group: str, set_id: str) -> Op[None]:
    """Delete an aggregated set and the task hashes in it."""
    yield Script(
        "delete_aggregation_set",
        (keys.aggregation_set_key(qname, group, set_id), keys.all_aggregation_sets(qname)),
        (keys.task_key_prefix(qname),),
    )


def reclaim_stale_aggregation_sets(qname: str, now: float) -> Op[None]:
    """Give the tasks of sets past their deadline back to their groups."""
    yield Script(
        "reclaim_stale_aggregation_sets",
        (keys.all_aggregation_sets(qname),),
        (math.floor(now),),
    )
