"""Inspector ops on whole queues: names, stats, history, groups, pause, removal, cluster layout.

Each op mirrors one Go ``RDB`` method of ``internal/rdb/inspect.go`` (named in its docstring),
including which of them first check that the queue is registered in ``asynq:queues``: Go tools
treat a queue missing from that set as nonexistent, whatever keys it has.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.crc import key_slot

from asynq._base import keys
from asynq._broker.calls import Command, Op, Pipeline, Script, as_int, as_str
from asynq._snapshots import ClusterNode, DailyStats, GroupInfo, QueueInfo
from asynq.errors import (
    AsynqError,
    BrokerError,
    FailedPreconditionError,
    QueueAlreadyPausedError,
    QueueNotEmptyError,
    QueueNotFoundError,
    QueueNotPausedError,
)

#: Task ids sampled per collection, and groups sampled, by the memory estimate (Go's values).
MEMORY_TASK_SAMPLE = 20
MEMORY_GROUP_SAMPLE = 5

_DAY = timedelta(days=1)
_log = logging.getLogger("asynq.inspector")


def require_queue(qname: str) -> Op[None]:
    """Raise :class:`QueueNotFoundError` unless ``qname`` is in ``asynq:queues``."""
    if not as_int((yield Command(("SISMEMBER", keys.ALL_QUEUES, qname)))):
        raise QueueNotFoundError(qname)


def all_queues() -> Op[list[str]]:
    """``RDB.AllQueues``: the registered queue names, sorted (Go returns the set's own order)."""
    names = yield Command(("SMEMBERS", keys.ALL_QUEUES))
    return sorted(_names(names, "asynq:queues"))


def _names(replies: Any, where: str) -> list[str]:
    """The names of a set that can address a queue or a group."""
    return [name for name in (_addressable(raw, where) for raw in replies) if name is not None]


def _addressable(raw: Any, where: str) -> str | None:
    """``raw`` as a name, or ``None`` when it is not UTF-8 or is blank: no queue or group this
    library (or a tool built on it) can reach has such a name, so it is left out with a
    warning rather than failing every reader of the set."""
    try:
        name = as_str(raw)
    except UnicodeDecodeError:
        name = ""
    if name.strip():
        return name
    _log.warning("ignoring a name in %s that cannot be addressed: %r", where, raw)
    return None


def _stats_call(qname: str, now: float) -> Script:
    return Script(
        "inspect_current_stats",
        (
            keys.pending_key(qname),
            keys.active_key(qname),
            keys.scheduled_key(qname),
            keys.retry_key(qname),
            keys.archived_key(qname),
            keys.completed_key(qname),
            keys.processed_key(qname, now),
            keys.failed_key(qname, now),
            keys.processed_total_key(qname),
            keys.failed_total_key(qname),
            keys.paused_key(qname),
            keys.groups_key(qname),
        ),
        (keys.task_key_prefix(qname), keys.group_key_prefix(qname)),
    )


def _memory_call(qname: str) -> Script:
    return Script(
        "inspect_memory_usage",
        (
            keys.active_key(qname),
            keys.pending_key(qname),
            keys.scheduled_key(qname),
            keys.retry_key(qname),
            keys.archived_key(qname),
            keys.completed_key(qname),
            keys.groups_key(qname),
        ),
        (
            keys.task_key_prefix(qname),
            MEMORY_TASK_SAMPLE,
            MEMORY_GROUP_SAMPLE,
            keys.group_key_prefix(qname),
        ),
    )


def queue_info(qname: str, now_ns: int) -> Op[QueueInfo]:
    """``RDB.CurrentStats`` then ``RDB.memoryUsage``: a snapshot of one queue.

    Latency is ``now - pending_since`` of the oldest pending task, or zero when that task has
    no ``pending_since`` (tasks moved by run/requeue,
    docs/compatibility.md#quirk-pending-since-not-restored).
    """
    now = now_ns / 1e9
    # Go asks in three round trips; the three reads go out together here.
    member, reply, memory_reply = yield Pipeline(
        (
            Command(("SISMEMBER", keys.ALL_QUEUES, qname)),
            _stats_call(qname, now),
            _memory_call(qname),
        )
    )
    if not as_int(member):
        raise QueueNotFoundError(qname)
    if isinstance(reply, AsynqError):
        raise reply
    bad: list[str] = []
    values = [_counter(name, value, bad) for name, value in zip(_STATS_FIELDS, reply, strict=True)]
    pending, active, scheduled, retry, archived, completed = values[:6]
    processed, failed, processed_total, failed_total = values[6:10]
    paused, oldest_since, group_count, aggregating = values[10:14]
    # The estimate reads every collection: a damaged one fails it, which costs only this field.
    memory = _counter("memory_usage", memory_reply, bad)
    latency = timedelta(0)
    if oldest_since:
        try:
            latency = timedelta(microseconds=(now_ns - oldest_since) // 1000)
        except OverflowError:
            bad.append("latency")
    return QueueInfo(
        queue=qname,
        memory_usage=memory,
        latency=latency,
        size=pending + active + scheduled + retry + archived + completed + aggregating,
        groups=group_count,
        pending=pending,
        active=active,
        scheduled=scheduled,
        retry=retry,
        archived=archived,
        completed=completed,
        aggregating=aggregating,
        processed=processed,
        failed=failed,
        processed_total=processed_total,
        failed_total=failed_total,
        paused=paused != 0,
        timestamp=datetime.fromtimestamp(now, UTC),
        unreadable=tuple(dict.fromkeys(bad)),
    )


#: The QueueInfo field each value of ``inspect_current_stats`` feeds, in reply order.
_STATS_FIELDS = (
    "pending", "active", "scheduled", "retry", "archived", "completed",
    "processed", "failed", "processed_total", "failed_total",
    "paused", "latency", "groups", "aggregating",
)  # fmt: skip


def _counter(name: str, value: Any, bad: list[str]) -> int:
    """``value`` as an integer; 0 (and ``name`` in ``bad``) for an error reply or text that is
    not a finite number (a counter overwritten with "NaN", a key of the wrong type)."""
    if isinstance(value, AsynqError):
        bad.append(name)
        return 0
    try:
        return as_int(value)
    except (ValueError, OverflowError, UnicodeDecodeError):
        bad.append(name)
        return 0


def history(qname: str, days: int, now: float) -> Op[list[DailyStats]]:
    """``RDB.HistoricalStats``: today's counters first, then one entry per earlier UTC day.

    Each ``date`` is ``now - i days`` (not truncated to midnight), as in Go.
    """
    yield from require_queue(qname)
    moment = datetime.fromtimestamp(now, UTC)
    dates = [moment - i * _DAY for i in range(days)]
    day_keys: list[str] = []
    for date in dates:
        ts = date.timestamp()
        day_keys += [keys.processed_key(qname, ts), keys.failed_key(qname, ts)]
    counts = yield Command(("MGET", *day_keys))
    days_stats = []
    for i, date in enumerate(dates):
        bad: list[str] = []
        days_stats.append(
            DailyStats(
                queue=qname,
                processed=_counter("processed", counts[2 * i], bad),
                failed=_counter("failed", counts[2 * i + 1], bad),
                date=date,
                unreadable=tuple(bad),
            )
        )
    return days_stats


def groups(qname: str) -> Op[list[GroupInfo]]:
    """``RDB.GroupStats``: every group and its size. Go does not check the queue here."""
    reply = yield Script(
        "inspect_group_stats", (keys.groups_key(qname),), (keys.group_key_prefix(qname),)
    )
    infos = []
    for i in range(0, len(reply), 2):
        name = _addressable(reply[i], keys.groups_key(qname))
        if name is not None:
            infos.append(GroupInfo(group=name, size=_counter("size", reply[i + 1], [])))
    return infos


def pause(qname: str, now: float) -> Op[None]:
    """``RDB.Pause``: ``SET paused <now> NX``; no queue check, as in Go."""
    if (yield Command(("SET", keys.paused_key(qname), int(now // 1), "NX"))) is None:
        raise QueueAlreadyPausedError(f'queue "{qname}" is already paused')


def unpause(qname: str) -> Op[None]:
    """``RDB.Unpause``: ``DEL paused``; no queue check, as in Go."""
    if not as_int((yield Command(("DEL", keys.paused_key(qname))))):
        raise QueueNotPausedError(f'queue "{qname}" is not paused')


def remove_queue(qname: str, force: bool) -> Op[None]:
    """``RDB.RemoveQueue``: delete the queue's collections and tasks, then unregister it.

    Raises:
        QueueNotFoundError: the queue is not registered.
        QueueNotEmptyError: not forced and a pending/active/scheduled/retry/archived task exists.
        FailedPreconditionError: forced and a task is active.
    """
    yield from require_queue(qname)
    code = as_int(
        (
            yield Script(
                "inspect_remove_queue",
                (
                    keys.pending_key(qname),
                    keys.active_key(qname),
                    keys.scheduled_key(qname),
                    keys.retry_key(qname),
                    keys.archived_key(qname),
                    keys.lease_key(qname),
                ),
                (keys.task_key_prefix(qname), "1" if force else "0"),
            )
        )
    )
    if code == -1:
        raise QueueNotEmptyError(qname)
    if code == -2:
        raise FailedPreconditionError("cannot remove queue with active tasks")
    if code != 1:
        raise BrokerError(f"unexpected reply {code} from inspect_remove_queue")
    yield Command(("SREM", keys.ALL_QUEUES, qname))


def cluster_key_slot(qname: str) -> Op[int]:
    """``RDB.ClusterKeySlot``: the hash slot of the queue's keys.

    Computed here with Redis Cluster's own function (CRC16 of the ``{<qname>}`` hash tag),
    which is what ``CLUSTER KEYSLOT`` answers: redis-py's asyncio cluster client cannot route
    that command. Unlike Go, this also answers on a standalone Redis.
    """
    return key_slot(keys.pending_key(qname).encode())
    yield  # unreachable: it makes this an op, one that needs no round trip


def _join_host_port(host: str, port: int) -> str:
    # Go's net.JoinHostPort brackets IPv6 literals.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def cluster_nodes(qname: str) -> Op[list[ClusterNode]]:
    """``RDB.ClusterNodes``: the nodes serving the queue's slot, as ``CLUSTER SLOTS`` lists them.

    Raises:
        BrokerError: Redis is not a cluster, or no slot range holds the queue's slot.
    """
    slot = yield from cluster_key_slot(qname)
    ranges: list[Any] = yield Script("inspect_server_query", (), ("cluster-slots",))
    for entry in ranges:
        if as_int(entry[0]) <= slot <= as_int(entry[1]):
            return [
                ClusterNode(id=as_str(node[2]), addr=_join_host_port(as_str(node[0]), node[1]))
                for node in entry[2:]
            ]
    raise BrokerError("nodes not found")


def parse_info(text: str) -> dict[str, str]:
    """Go's ``parseInfo``: every ``key:value`` line; lines with no or several ``:`` are skipped."""
    info: dict[str, str] = {}
    for line in text.split("\r\n"):
        parts = line.split(":")
        if len(parts) == 2:
            info[parts[0]] = parts[1]
    return info


def redis_info(cluster: bool) -> Op[dict[str, str]]:
    """``RDB.RedisInfo`` (``INFO``), or ``RDB.RedisClusterInfo`` (``CLUSTER INFO``) on a cluster.

    A script with no keys runs on any one node of a cluster, as Go's command does.
    """
    reply = yield Script("inspect_server_query", (), ("cluster-info" if cluster else "info",))
    return parse_info(as_str(reply))
