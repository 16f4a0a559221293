"""Ops that publish and clear a worker server's state (Go's ``WriteServerState`` and
``ClearServerState``), read by ``Inspector.Servers()``, the CLI and Asynqmon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from asynq._base import keys
from asynq._base.codec import ServerInfoMessage, WorkerInfoMessage
from asynq._broker.calls import Arg, Command, Op, Pipeline, Script


def write_server_state_calls(
    info: ServerInfoMessage, workers: Sequence[WorkerInfoMessage], ttl: int, now: float
) -> tuple[Command | Script, ...]:
    """The three calls of Go's ``RDB.WriteServerState``, in Go's order.

    Both registry ZSETs are scored with the expiry (now + ttl, whole seconds); the info string
    and the workers hash get the TTL itself.
    """
    skey = keys.server_info_key(info.host, info.pid, info.server_id)
    wkey = keys.workers_key(info.host, info.pid, info.server_id)
    expires = math.floor(now + ttl)
    args: list[Arg] = [ttl, info.SerializeToString()]
    for w in workers:
        args += [w.task_id, w.SerializeToString()]
    return (
        Command(("ZADD", keys.ALL_SERVERS, expires, skey)),
        Command(("ZADD", keys.ALL_WORKERS, expires, wkey)),
        Script("write_server_state", (skey, wkey), tuple(args)),
    )


def clear_server_state(host: str, pid: int, server_id: str) -> Op[None]:
    """Go's ``RDB.ClearServerState``: unregister the server and delete its keys."""
    skey = keys.server_info_key(host, pid, server_id)
    wkey = keys.workers_key(host, pid, server_id)
    replies = yield Pipeline(
        (
            Command(("ZREM", keys.ALL_SERVERS, skey)),
            Command(("ZREM", keys.ALL_WORKERS, wkey)),
            Script("clear_server_state", (skey, wkey)),
        )
    )
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply


#: Workers keys registered with an expiry older than this are not read: their 10 s TTL ran out
#: long ago (the margin covers clock differences between servers). Killed servers leave their
#: entry in ``asynq:workers`` for good, so without it every pass would read them all.
CLAIM_SKEW_MARGIN = 60


def claimed_task_ids(now: float) -> Op[set[bytes]]:
    """The ids of the tasks that live servers (Go's and this library's) list in their
    ``asynq:workers:{...}`` hash, written at each heartbeat with a 10 s TTL.

    Every workers key registered as expiring after ``now`` minus :data:`CLAIM_SKEW_MARGIN` is
    read; one that has expired is simply gone. Raises
    :class:`~asynq.errors.BrokerReplyError` if one cannot be read, since a missing claim would
    make a live server's task look orphaned.
    """
    wkeys = yield Command(
        ("ZRANGEBYSCORE", keys.ALL_WORKERS, math.floor(now) - CLAIM_SKEW_MARGIN, "+inf")
    )
    if not wkeys:
        return set()
    replies = yield Pipeline(tuple(Command(("HKEYS", bytes(k))) for k in wkeys))
    claimed: set[bytes] = set()
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
        claimed.update(bytes(tid) for tid in reply)
    return claimed
