"""Turns a :class:`~asynq.Task` plus enqueue options into the TaskMessage Go would write.

Pure functions: the caller passes the current time. The rules are Go v0.26.0's
(``client.go``): the task's own options first, then the call's, last one wins; ``max_retry``
defaults to 25; when neither ``timeout`` nor ``deadline`` is set the timeout is 1800 s;
durations are truncated to whole seconds. Inputs that Go would silently mangle (sub-second
timeouts that become "no timeout", negative durations, queue names that break the Redis
Cluster hash tag) are rejected with :class:`~asynq.errors.ValidationError` instead.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asynq._base import gofmt, keys
from asynq._base.codec import TaskMessage
from asynq._task import EnqueueOptions, Task, validate_headers, validate_text
from asynq.errors import ValidationError

DEFAULT_MAX_RETRY = 25
DEFAULT_TIMEOUT_SECONDS = 1800
#: ``retry`` is an int32 field of the TaskMessage.
MAX_RETRY_LIMIT = 2**31 - 1
#: The longest duration Go can read back: ``timeout``, ``retention`` and unique TTLs are stored
#: as int64 seconds and read as ``time.Duration(n) * time.Second``, an int64 of nanoseconds, so
#: anything longer wraps around (about 292 years).
MAX_DURATION_SECONDS = (2**63 - 1) // 1_000_000_000
#: The latest instant a deadline or process time may name: 9999-12-31T23:59:59Z, the end of
#: both a protobuf ``Timestamp``'s valid range and Python's ``datetime``.
MAX_UNIX_SECONDS = 253_402_300_799

_KNOWN = frozenset(EnqueueOptions.__annotations__) | frozenset(EnqueueOptions.__optional_keys__)


class Placement(enum.Enum):
    """Where an enqueue call puts the task (Go's choice in ``Client.EnqueueContext``)."""

    PENDING = "pending"
    SCHEDULED = "scheduled"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Composed:
    """The message to write and how to write it."""

    msg: TaskMessage
    placement: Placement
    process_at: float
    #: Lock TTL in whole seconds for unique tasks, else ``None``.
    unique_ttl: int | None


def to_seconds(name: str, value: Any) -> float:
    """``value`` (seconds or a ``timedelta``) as float seconds.

    Raises:
        ValidationError: for a negative, infinite or non-numeric value.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ValidationError(f"{name} must be a number of seconds or a timedelta, not {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValidationError(f"{name} cannot be negative: {value!r}")
    return seconds


def go_duration(name: str, value: Any) -> float:
    """Like :func:`to_seconds`, also refusing what Go's ``time.Duration`` cannot hold.

    Raises:
        ValidationError: for a negative, non-numeric, NaN or too long duration (the message
            names the option and the allowed range).
    """
    if isinstance(value, timedelta):
        seconds: float = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # Clamp big ints first: float(10**400) would raise OverflowError, not our message.
        seconds = value if isinstance(value, float) else min(value, MAX_DURATION_SECONDS + 1)
    else:
        raise ValidationError(f"{name} must be a number of seconds or a timedelta, not {value!r}")
    if not 0 <= seconds <= MAX_DURATION_SECONDS:  # also false for NaN
        raise ValidationError(
            f"{name} must be between 0 and {MAX_DURATION_SECONDS} seconds (the longest "
            f"duration Go can read back), not {_shown(value)}"
        )
    return float(seconds)


def _shown(value: Any) -> str:
    """``repr(value)`` for a message, short even for an int of thousands of digits."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def _whole_seconds(name: str, value: Any) -> int:
    """Truncate like Go's ``int64(d.Seconds())`` but refuse a value that would truncate to 0."""
    seconds = go_duration(name, value)
    if 0 < seconds < 1:
        raise ValidationError(f"{name} must be at least one second (got {seconds}s)")
    return int(seconds)


def _unix(name: str, value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{name} must be an aware datetime (give it a tzinfo)")
        unix = value.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        unix = value if isinstance(value, float) else min(value, MAX_UNIX_SECONDS + 1)  # as above
    else:
        raise ValidationError(f"{name} must be Unix seconds or an aware datetime, not {value!r}")
    return _in_instant_range(name, unix, value)


def _in_instant_range(name: str, unix: float, given: Any) -> float:
    if not 0 <= unix <= MAX_UNIX_SECONDS:  # also false for NaN
        raise ValidationError(
            f"{name} must fall between 1970-01-01 and 9999-12-31 UTC (Unix seconds 0 to "
            f"{MAX_UNIX_SECONDS}), not {_shown(given)}"
        )
    return unix


def validate_queue_name(qname: Any) -> str:
    """Return ``qname`` if Go and Redis Cluster both accept it; raise otherwise."""
    name = validate_text("queue name", qname)
    if "{" in name or "}" in name:
        # The queue name sits inside the {hash tag} of every key: a brace would split the tag
        # and scatter one queue's keys over several cluster slots (CROSSSLOT errors).
        raise ValidationError(f"queue name cannot contain '{{' or '}}': {name!r}")
    return name


def _name(option: str, value: Any) -> str:
    return validate_text(option, value)


def merge_options(task: Task, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The task's options updated by the call's; unknown names are refused."""
    unknown = set(overrides) - _KNOWN
    if unknown:
        raise ValidationError(f"unknown enqueue option(s): {', '.join(sorted(unknown))}")
    merged = dict(task.options)
    merged.update(overrides)
    return merged


def _process_at(task: Task, overrides: Mapping[str, Any], now: float) -> float:
    """Go applies the task's options, then the call's: the last ProcessAt/ProcessIn wins.

    ``None`` clears that one option (as it does for every other option).
    """
    order: dict[str, Any] = {}
    for source in (task.options, overrides):
        for name, value in source.items():
            if name in ("process_at", "process_in"):
                order.pop(name, None)
                order[name] = value
    for name, value in reversed(order.items()):
        if value is None:
            continue
        if name == "process_at":
            return _unix(name, value)
        later = now + go_duration(name, value)
        return _in_instant_range("process_in (counted from now)", later, value)
    return now


def option_strings(opts: Mapping[str, Any]) -> list[str]:
    """Go's ``Option.String()`` of each option in ``opts``, as a scheduler publishes them with
    its entries (``Queue("critical")``, ``MaxRetry(3)``...).

    Raises:
        ValidationError: an option has no Go form or a bad value.
    """
    try:
        return gofmt.option_strings(opts)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def compose(task: Task, overrides: Mapping[str, Any], now: float, later: float) -> Composed:
    """Build the TaskMessage for ``task`` as Go would, and decide where it goes.

    ``now`` is the time of the call; ``later`` is read just after (Go computes the scheduled
    unique lock TTL with ``time.Until``, which has moved on by a hair, so it truncates down).
    """
    opts = merge_options(task, overrides)
    retry = opts.get("max_retry", DEFAULT_MAX_RETRY)
    if not isinstance(retry, int) or isinstance(retry, bool):
        raise ValidationError(f"max_retry must be an int, not {retry!r}")
    if retry > MAX_RETRY_LIMIT:
        raise ValidationError(f"max_retry cannot exceed {MAX_RETRY_LIMIT}: {retry}")
    qname = validate_queue_name(opts.get("queue", keys.DEFAULT_QUEUE))
    task_id = _name("task id", opts["task_id"]) if "task_id" in opts else str(uuid.uuid4())
    timeout = opts.get("timeout")
    deadline = opts.get("deadline")
    timeout_s = 0 if timeout is None else _whole_seconds("timeout", timeout)
    deadline_s = 0 if deadline is None else math.floor(_unix("deadline", deadline))
    if timeout_s == 0 and deadline_s == 0:
        timeout_s = DEFAULT_TIMEOUT_SECONDS
    retention = opts.get("retention")
    group = opts.get("group")
    headers = dict(task.headers)
    headers.update(validate_headers(opts.get("headers")))

    msg = TaskMessage(
        type=task.type,
        payload=task.payload,
        id=task_id,
        queue=qname,
        retry=max(retry, 0),
        timeout=timeout_s,
        deadline=deadline_s,
        retention=0 if retention is None else _whole_seconds("retention", retention),
        group_key="" if group is None else _name("group", group),
        headers=headers,
    )

    process_at = _process_at(task, overrides, now)

    unique_ttl: int | None = None
    if opts.get("unique") is not None:
        ttl = go_duration("unique", opts["unique"])
        if ttl < 1:
            raise ValidationError("unique TTL cannot be less than 1s")
        msg.unique_key = keys.unique_key(qname, task.type, task.raw_payload)
        unique_ttl = int(ttl)

    if process_at > now:
        if unique_ttl is not None:
            # Go truncates time.Until(processAt + ttl), read strictly after "now": a whole
            # number of seconds comes out one lower (ProcessIn(10m) + Unique(1h) → 4199). The
            # clock may return "now" twice, so take the largest integer strictly below.
            remaining = process_at + ttl - later
            unique_ttl = max(math.ceil(remaining) - 1, 1)
        return Composed(msg, Placement.SCHEDULED, process_at, unique_ttl)
    if msg.group_key:
        return Composed(msg, Placement.GROUP, now, unique_ttl)
    return Composed(msg, Placement.PENDING, now, unique_ttl)
