"""The producer ops driven by hand with canned replies: the calls they yield and the error map."""

from __future__ import annotations

from typing import Any

import pytest

from asynq import DuplicateTaskError, Task, TaskIDConflictError
from asynq._base.codec import encode_message
from asynq._broker.calls import Command, Pipeline, ReplyError, Script
from asynq._broker.ops import client_ops
from asynq._options import Composed, compose
from asynq.errors import BrokerError

NOW = 1_770_076_800.75
NOW_NS = 1_770_076_800_750_000_123


def composed(**opts: Any) -> Composed:
    return compose(Task("email:send", b"p"), {"task_id": "id1", **opts}, NOW, NOW)


def run(op: Any, *replies: Any) -> tuple[list[Any], Any]:
    """Drive ``op``: send each canned reply in turn; return the yielded calls and the result."""
    calls = [next(op)]
    for reply in replies[:-1]:
        calls.append(op.send(reply))
    with pytest.raises(StopIteration) as stop:
        op.send(replies[-1])
    return calls, stop.value.value


#: The keys the enqueue scripts pass on to their handoff to an idle worker, in KEYS order.
HAND_OFF_KEYS = (
    "asynq:{default}:pending",
    "asynq:{default}:handoff",
    "asynq:{default}:paused",
    "asynq:{default}:active",
    "asynq:{default}:lease",
)


def test_enqueue_call() -> None:
    c = composed()
    call = client_ops.write_call(c, NOW_NS)
    assert call == Script(
        "enqueue",
        ("asynq:{default}:t:id1", *HAND_OFF_KEYS),
        (encode_message(c.msg), "id1", NOW_NS),
    )


def test_enqueue_unique_call() -> None:
    c = composed(unique=3600)
    call = client_ops.write_call(c, NOW_NS)
    assert call == Script(
        "enqueue_unique",
        (
            "asynq:{default}:unique:email:send:83878c91171338902e0fe0fb97a8c47a",
            "asynq:{default}:t:id1",
            *HAND_OFF_KEYS,
        ),
        ("id1", 3600, encode_message(c.msg), NOW_NS),
    )


def test_schedule_call_has_an_integer_score() -> None:
    c = composed(process_in=600, queue="low")
    call = client_ops.write_call(c, NOW_NS)
    assert call == Script(
        "schedule",
        ("asynq:{low}:t:id1", "asynq:{low}:scheduled"),
        (encode_message(c.msg), 1_770_077_400, "id1"),
    )
    assert type(call.args[1]) is int


def test_schedule_unique_call() -> None:
    c = compose(
        Task("email:send", b"p"),
        {"task_id": "id1", "process_in": 600, "unique": 3600},
        NOW,
        NOW + 0.001,
    )
    call = client_ops.write_call(c, NOW_NS)
    assert call == Script(
        "schedule_unique",
        (
            "asynq:{default}:unique:email:send:83878c91171338902e0fe0fb97a8c47a",
            "asynq:{default}:t:id1",
            "asynq:{default}:scheduled",
        ),
        ("id1", 4199, 1_770_077_400, encode_message(c.msg)),
    )


def test_add_to_group_call_scores_whole_seconds() -> None:
    c = composed(group="g1")
    call = client_ops.write_call(c, NOW_NS)
    assert call == Script(
        "add_to_group",
        ("asynq:{default}:t:id1", "asynq:{default}:g:g1", "asynq:{default}:groups"),
        (encode_message(c.msg), "id1", 1_770_076_800, "g1"),
    )


def test_add_to_group_unique_call() -> None:
    c = composed(group="g1", unique=60)
    call = client_ops.write_call(c, NOW_NS)
    assert call == Script(
        "add_to_group_unique",
        (
            "asynq:{default}:t:id1",
            "asynq:{default}:g:g1",
            "asynq:{default}:groups",
            "asynq:{default}:unique:email:send:83878c91171338902e0fe0fb97a8c47a",
        ),
        (encode_message(c.msg), "id1", 1_770_076_800, "g1", 60),
    )


def test_write_registers_the_queue_in_the_same_round_trip() -> None:
    c = composed(queue="critical")
    calls, result = run(client_ops.write(c, NOW_NS, True), [1, 1])
    assert calls == [
        Pipeline((Command(("SADD", "asynq:queues", "critical")), client_ops.write_call(c, NOW_NS)))
    ]
    assert calls[0].transaction is False
    assert result is None


def test_write_without_registration_sends_only_the_script() -> None:
    c = composed()
    calls, result = run(client_ops.write(c, NOW_NS, False), 1)
    assert calls == [client_ops.write_call(c, NOW_NS)]
    assert result is None


@pytest.mark.parametrize(
    ("reply", "error"),
    [(-1, DuplicateTaskError), (0, TaskIDConflictError), (b"0", TaskIDConflictError)],
)
@pytest.mark.parametrize("register", [True, False])
def test_write_maps_script_replies_to_go_errors(reply: Any, error: type, register: bool) -> None:
    op = client_ops.write(composed(unique=10), NOW_NS, register)
    next(op)
    with pytest.raises(error):
        op.send([1, reply] if register else reply)


def test_go_error_texts() -> None:
    assert str(DuplicateTaskError()) == "task already exists"
    assert str(TaskIDConflictError()) == "task ID conflicts with another task"


def test_unexpected_reply_is_a_broker_error() -> None:
    op = client_ops.write(composed(), NOW_NS, False)
    next(op)
    with pytest.raises(BrokerError, match="unexpected"):
        op.send(2)


def test_error_reply_inside_the_pipeline_is_raised() -> None:
    op = client_ops.write(composed(), NOW_NS, True)
    next(op)
    with pytest.raises(ReplyError, match="OOM"):
        op.send([1, ReplyError("OOM command not allowed")])


def test_check_reply() -> None:
    assert client_ops.check_reply(1) is None
    assert isinstance(client_ops.check_reply(-1), DuplicateTaskError)
    assert isinstance(client_ops.check_reply(0), TaskIDConflictError)
    err = ReplyError("boom")
    assert client_ops.check_reply(err) is err
