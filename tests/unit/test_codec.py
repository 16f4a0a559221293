"""Protobuf bytes must equal what Go's ``proto.Marshal`` writes
(docs/compatibility.md#protobuf-encoding)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from asynq import Task
from asynq._base.codec import (
    GO_ZERO_TIME_SECONDS,
    SchedulerEntryMessage,
    TaskMessage,
    datetime_from_timestamp,
    decode_message,
    encode_message,
    fill_timestamp,
    fill_timestamp_ns,
    unix_to_datetime,
)
from asynq._options import compose

TASK_ID = "7d1b3f2e-5c1a-4f0e-9b7a-2d3c4e5f6a7b"
PAYLOAD = b'{"to":"a@b.c"}'
#: Go v0.26.0: Client.Enqueue(NewTask("email:send", PAYLOAD), TaskID(TASK_ID)) stores these bytes.
GO_VECTOR = bytes.fromhex(
    "0a0a656d61696c3a73656e64120e7b22746f223a226140622e63227d1a2437643162336632652d356331612d"
    "346630652d396237612d326433633465356636613762220764656661756c74281940880e"
)
TRACE_SUFFIX = bytes.fromhex("7a0c0a0574726163651203616263")
GO_ZERO_TIME_BYTES = bytes.fromhex("088092b8c398feffffff01")


def _vector_message(**extra: object) -> TaskMessage:
    return TaskMessage(
        type="email:send",
        payload=PAYLOAD,
        id=TASK_ID,
        queue="default",
        retry=25,
        timeout=1800,
        **extra,  # type: ignore[arg-type]
    )


def test_go_vector_byte_exact() -> None:
    assert len(GO_VECTOR) == 80
    assert encode_message(_vector_message()) == GO_VECTOR


def test_go_vector_with_one_header() -> None:
    assert encode_message(_vector_message(headers={"trace": "abc"})) == GO_VECTOR + TRACE_SUFFIX


def test_go_vector_decodes() -> None:
    msg = decode_message(GO_VECTOR + TRACE_SUFFIX)
    assert msg == _vector_message(headers={"trace": "abc"})
    assert msg.retried == 0 and msg.deadline == 0 and msg.unique_key == ""


def test_compose_with_default_options_produces_the_go_vector() -> None:
    # The whole producer path: Task + Go defaults (retry 25, timeout 1800) → the same 80 bytes.
    now = 1_770_000_000.0
    composed = compose(Task("email:send", PAYLOAD), {"task_id": TASK_ID}, now, now)
    assert encode_message(composed.msg) == GO_VECTOR
    with_header = compose(
        Task("email:send", PAYLOAD, headers={"trace": "abc"}), {"task_id": TASK_ID}, now, now
    )
    assert encode_message(with_header.msg) == GO_VECTOR + TRACE_SUFFIX


def test_decode_ignores_unknown_fields() -> None:
    # Field 99, varint 1: Go tolerates unknown fields, so must we.
    msg = decode_message(GO_VECTOR + bytes([0x98, 0x06, 0x01]))
    assert msg.id == TASK_ID


def test_go_zero_time_encoding() -> None:
    assert GO_ZERO_TIME_SECONDS == -62135596800
    ts = Timestamp()
    fill_timestamp(ts, None)
    assert (ts.seconds, ts.nanos) == (GO_ZERO_TIME_SECONDS, 0)
    assert ts.SerializeToString() == GO_ZERO_TIME_BYTES
    # Inside a message the zero time is a present sub-message (field 7 of SchedulerEntryMessage).
    entry = SchedulerEntryMessage()
    fill_timestamp(entry.prev_enqueue_time, None)
    assert entry.SerializeToString() == bytes([0x3A, len(GO_ZERO_TIME_BYTES)]) + GO_ZERO_TIME_BYTES


def test_fill_timestamp_splits_seconds_and_nanos() -> None:
    ts = Timestamp()
    fill_timestamp(ts, 1_700_000_000.5)
    assert (ts.seconds, ts.nanos) == (1_700_000_000, 500_000_000)
    fill_timestamp(ts, 1_700_000_000)
    assert (ts.seconds, ts.nanos) == (1_700_000_000, 0)
    fill_timestamp(ts, -1.5)  # nanos are never negative in a Timestamp
    assert (ts.seconds, ts.nanos) == (-2, 500_000_000)


def test_fill_timestamp_carries_a_fraction_that_rounds_up() -> None:
    ts = Timestamp()
    fill_timestamp(ts, 0.9999999999)
    assert (ts.seconds, ts.nanos) == (1, 0)


def test_fill_timestamp_ns_is_exact() -> None:
    ts = Timestamp()
    fill_timestamp_ns(ts, 1_700_000_000_123_456_789)
    assert (ts.seconds, ts.nanos) == (1_700_000_000, 123_456_789)


def test_datetime_from_timestamp() -> None:
    ts = Timestamp(seconds=1_770_076_800, nanos=0)
    assert datetime_from_timestamp(ts) == datetime(2026, 2, 3, tzinfo=UTC)
    result = datetime_from_timestamp(ts)
    assert result is not None and result.tzinfo is not None


def test_datetime_from_timestamp_truncates_to_microseconds() -> None:
    ts = Timestamp(seconds=1_770_076_800, nanos=123_456_789)
    assert datetime_from_timestamp(ts) == datetime(2026, 2, 3, 0, 0, 0, 123_456, tzinfo=UTC)
    ts = Timestamp(seconds=1_770_076_800, nanos=999_999_999)
    assert datetime_from_timestamp(ts) == datetime(2026, 2, 3, 0, 0, 0, 999_999, tzinfo=UTC)


def test_datetime_from_timestamp_maps_go_zero_and_unset_to_none() -> None:
    assert datetime_from_timestamp(Timestamp(seconds=GO_ZERO_TIME_SECONDS)) is None
    assert datetime_from_timestamp(Timestamp()) is None  # an absent field decodes as the epoch
    assert datetime_from_timestamp(SchedulerEntryMessage().next_enqueue_time) is None


def test_datetime_from_timestamp_before_the_epoch() -> None:
    ts = Timestamp(seconds=-1, nanos=0)
    assert datetime_from_timestamp(ts) == datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_unix_to_datetime() -> None:
    assert unix_to_datetime(0) is None
    assert unix_to_datetime(1_770_076_800) == datetime(2026, 2, 3, tzinfo=UTC)
