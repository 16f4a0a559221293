"""Redis key builders, one for every key of Go asynq v0.26.0 (``internal/base/base.go``).

Every per-queue key carries the queue name inside ``{}`` so that Redis Cluster hashes all keys
of one queue to one slot; that is what lets a Lua script touch any key of one queue. The
global keys have no hash tag. The strings must stay byte-for-byte equal to Go's, because Go
servers, Go's Inspector and Asynqmon read them.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime

ALL_QUEUES = "asynq:queues"
ALL_SERVERS = "asynq:servers"
ALL_WORKERS = "asynq:workers"
ALL_SCHEDULERS = "asynq:schedulers"
CANCEL_CHANNEL = "asynq:cancel"

DEFAULT_QUEUE = "default"


def queue_key_prefix(qname: str) -> str:
    """``asynq:{<qname>}:``: the prefix shared by every key of one queue."""
    return f"asynq:{{{qname}}}:"


def task_key_prefix(qname: str) -> str:
    """``asynq:{<qname>}:t:``: the prefix of task hashes."""
    return f"asynq:{{{qname}}}:t:"


def group_key_prefix(qname: str) -> str:
    """``asynq:{<qname>}:g:``: the prefix of group ZSETs."""
    return f"asynq:{{{qname}}}:g:"


def task_key(qname: str, task_id: str) -> str:
    """The HASH holding one task: ``asynq:{<qname>}:t:<id>``."""
    return f"asynq:{{{qname}}}:t:{task_id}"


def progress_key(qname: str, task_id: str) -> str:
    """The STREAM of progress reports of one task (Python only; Go never reads it):
    ``asynq:{<qname>}:progress:<id>``. Outside the ``t:`` prefix, so nothing that walks the
    task hashes meets it; it expires on its own."""
    return f"asynq:{{{qname}}}:progress:{task_id}"


def pending_key(qname: str) -> str:
    """The LIST of task ids ready to run."""
    return f"asynq:{{{qname}}}:pending"


def active_key(qname: str) -> str:
    """The LIST of task ids being processed."""
    return f"asynq:{{{qname}}}:active"


def scheduled_key(qname: str) -> str:
    """The ZSET of scheduled task ids, scored by process-at Unix seconds."""
    return f"asynq:{{{qname}}}:scheduled"


def retry_key(qname: str) -> str:
    """The ZSET of task ids waiting for a retry, scored by retry-at Unix seconds."""
    return f"asynq:{{{qname}}}:retry"


def archived_key(qname: str) -> str:
    """The ZSET of archived task ids, scored by archive Unix seconds."""
    return f"asynq:{{{qname}}}:archived"


def lease_key(qname: str) -> str:
    """The ZSET of active task ids, scored by lease expiry Unix seconds."""
    return f"asynq:{{{qname}}}:lease"


def completed_key(qname: str) -> str:
    """The ZSET of completed task ids, scored by expiry (completed_at + retention)."""
    return f"asynq:{{{qname}}}:completed"


def paused_key(qname: str) -> str:
    """The STRING whose existence marks the queue paused."""
    return f"asynq:{{{qname}}}:paused"


def processed_total_key(qname: str) -> str:
    """The all-time processed counter."""
    return f"asynq:{{{qname}}}:processed"


def failed_total_key(qname: str) -> str:
    """The all-time failed counter."""
    return f"asynq:{{{qname}}}:failed"


def _utc_date(now_unix: float) -> str:
    return _utc_day(int(now_unix // 86400))


@functools.lru_cache(maxsize=8)
def _utc_day(days_since_epoch: int) -> str:
    # Every finished task needs today's counter key; formatting a date each time is wasted work.
    return datetime.fromtimestamp(days_since_epoch * 86400, UTC).strftime("%Y-%m-%d")


def processed_key(qname: str, now_unix: float) -> str:
    """The processed counter of the UTC day containing ``now_unix``."""
    return f"asynq:{{{qname}}}:processed:{_utc_date(now_unix)}"


def failed_key(qname: str, now_unix: float) -> str:
    """The failed counter of the UTC day containing ``now_unix``."""
    return f"asynq:{{{qname}}}:failed:{_utc_date(now_unix)}"


def unique_key(qname: str, task_type: str, payload: bytes | None) -> str:
    """The uniqueness lock of (queue, type, payload).

    Go leaves the checksum out for a nil payload; ``None`` maps to that form while ``b""``
    hashes to the MD5 of nothing, exactly as Go's ``[]byte{}`` does.
    """
    if payload is None:
        return f"asynq:{{{qname}}}:unique:{task_type}:"
    checksum = hashlib.md5(payload, usedforsecurity=False).hexdigest()
    return f"asynq:{{{qname}}}:unique:{task_type}:{checksum}"


def groups_key(qname: str) -> str:
    """The SET of group names that hold tasks."""
    return f"asynq:{{{qname}}}:groups"


def group_key(qname: str, gname: str) -> str:
    """The ZSET of tasks waiting in one group, scored by the Unix second they were added."""
    return f"asynq:{{{qname}}}:g:{gname}"


def aggregation_set_key(qname: str, gname: str, set_id: str) -> str:
    """One aggregation set: the tasks taken out of a group for one aggregation."""
    return f"asynq:{{{qname}}}:g:{gname}:{set_id}"


def all_aggregation_sets(qname: str) -> str:
    """The ZSET of aggregation set keys, scored by their deadline."""
    return f"asynq:{{{qname}}}:aggregation_sets"


def server_info_key(hostname: str, pid: int, server_id: str) -> str:
    """The STRING holding one server's ``ServerInfo``."""
    return f"asynq:servers:{{{hostname}:{pid}:{server_id}}}"


def workers_key(hostname: str, pid: int, server_id: str) -> str:
    """The HASH of one server's active workers."""
    return f"asynq:workers:{{{hostname}:{pid}:{server_id}}}"


def scheduler_entries_key(scheduler_id: str) -> str:
    """The LIST of one scheduler's ``SchedulerEntry`` messages."""
    return f"asynq:schedulers:{{{scheduler_id}}}"


def scheduler_history_key(entry_id: str) -> str:
    """The ZSET of enqueue events of one scheduler entry."""
    return f"asynq:scheduler_history:{entry_id}"


#: Prefix of the scheduler tick-claim keys (Python only, see ``asynq.scheduler``). Go asynq never
#: reads, writes or scans keys with it, and it is outside every ``asynq:{<queue>}:`` prefix that
#: queue removal and the Inspector work on.
SCHEDULER_TICK_PREFIX = "asynq:scheduler_tick:"


def scheduler_tick_key(fingerprint: str, tick: int) -> str:
    """``asynq:scheduler_tick:<fingerprint>:<tick Unix seconds>``: the claim on one tick."""
    return f"{SCHEDULER_TICK_PREFIX}{fingerprint}:{tick}"


def handoff_key(qname: str) -> str:
    """``asynq:{<qname>}:handoff``: the ZSET of idle Python workers ready to be handed a task.

    Python only (see ``asynq/_broker/lua/enqueue.lua``): members are the workers' handoff
    channels, scores the Unix milliseconds at which each registration lapses. Go asynq never
    reads it; the key expires by itself shortly after the last idle worker stops renewing it.
    """
    return f"asynq:{{{qname}}}:handoff"


@functools.lru_cache(maxsize=256)
def hand_off_keys(qname: str) -> tuple[str, str, str, str, str]:
    """The keys the enqueue scripts' handoff reads and writes, in their ``KEYS`` order.

    ``(pending, handoff, paused, active, lease)``, see ``asynq/_broker/lua/include/hand_off.lua``.
    Every enqueue passes them, so they are built once per queue and the tuple is shared.
    """
    return (
        pending_key(qname),
        handoff_key(qname),
        paused_key(qname),
        active_key(qname),
        lease_key(qname),
    )


#: Prefix of the per-server channels that carry handed-off task messages (Python only).
HANDOFF_CHANNEL_PREFIX = "asynq:handoff:"


def handoff_channel(server_id: str) -> str:
    """``asynq:handoff:<server_id>``: where one worker server receives handed-off tasks."""
    return f"{HANDOFF_CHANNEL_PREFIX}{server_id}"
