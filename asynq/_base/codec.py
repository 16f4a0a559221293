"""Protobuf encoding of everything asynq stores in Redis, and Go's time conventions.

Go stores "no time" in ``google.protobuf.Timestamp`` fields as its zero ``time.Time``
(0001-01-01T00:00:00Z, i.e. ``seconds = -62135596800``), a present sub-message, and tests it
with ``IsZero()``. An *absent* Timestamp decodes in Go as the Unix epoch instead, so writers here
always fill the field and readers map both forms to ``None``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from asynq._base.proto.asynq_pb2 import (
    SchedulerEnqueueEventMessage,
    SchedulerEntryMessage,
    ServerInfoMessage,
    TaskMessage,
    WorkerInfoMessage,
)

__all__ = [
    "GO_ZERO_TIME_SECONDS",
    "SchedulerEnqueueEventMessage",
    "SchedulerEntryMessage",
    "ServerInfoMessage",
    "TaskMessage",
    "WorkerInfoMessage",
    "datetime_from_timestamp",
    "decode_message",
    "encode_message",
    "fill_timestamp",
    "fill_timestamp_ns",
    "unix_to_datetime",
]

#: ``time.Time{}.Unix()`` in Go: the seconds of 0001-01-01T00:00:00Z.
GO_ZERO_TIME_SECONDS = -62135596800


def encode_message(msg: TaskMessage) -> bytes:
    """Serialise a TaskMessage exactly as Go's ``proto.Marshal`` (fields in number order)."""
    return msg.SerializeToString()


def decode_message(data: bytes) -> TaskMessage:
    """Parse the bytes of a task hash's ``msg`` field."""
    msg = TaskMessage()
    msg.ParseFromString(data)
    return msg


def fill_timestamp(ts: Timestamp, unix: float | None) -> None:
    """Set ``ts`` to ``unix`` seconds, or to Go's zero time when ``unix`` is ``None``."""
    if unix is None:
        ts.seconds = GO_ZERO_TIME_SECONDS
        ts.nanos = 0
        return
    seconds = int(unix // 1)
    # A fraction that rounds up to a whole second carries into the seconds.
    carry, ts.nanos = divmod(round((unix - seconds) * 1e9), 1_000_000_000)
    ts.seconds = seconds + carry


def fill_timestamp_ns(ts: Timestamp, unix_ns: int) -> None:
    """Set ``ts`` from integer Unix nanoseconds, with no float rounding."""
    ts.seconds, ts.nanos = divmod(unix_ns, 1_000_000_000)


def datetime_from_timestamp(ts: Timestamp) -> datetime | None:
    """An aware UTC datetime, or ``None`` for Go's zero time and for the epoch (an unset field)."""
    if ts.seconds == GO_ZERO_TIME_SECONDS or (ts.seconds == 0 and ts.nanos == 0):
        return None
    # Integer arithmetic: a float sum would round 123456789 ns up to 123457 µs.
    return datetime.fromtimestamp(ts.seconds, UTC) + timedelta(microseconds=ts.nanos // 1000)


def unix_to_datetime(seconds: int) -> datetime | None:
    """Map Go's "0 means none" Unix-seconds fields to an aware datetime or ``None``."""
    if seconds == 0:
        return None
    return datetime.fromtimestamp(seconds, UTC)
