"""Task, TaskInfo and TaskState: pure values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asynq import Task, TaskInfo, TaskState, ValidationError
from asynq._base.codec import TaskMessage


def test_task_state_numbers_match_go() -> None:
    numbers = {state.value: state.number for state in TaskState}
    assert numbers == {
        "active": 1,
        "pending": 2,
        "scheduled": 3,
        "retry": 4,
        "archived": 5,
        "completed": 6,
        "aggregating": 7,
    }


def test_task_state_from_the_hash_field() -> None:
    assert TaskState("pending") is TaskState.PENDING
    assert TaskState(b"aggregating".decode()) is TaskState.AGGREGATING
    assert str(TaskState.SCHEDULED) == "scheduled"
    with pytest.raises(ValueError):
        TaskState("unknown")


def test_task_properties() -> None:
    task = Task("email:send", b"x", headers={"trace": "abc"}, queue="low", max_retry=2)
    assert task.type == "email:send"
    assert task.payload == b"x"
    assert task.raw_payload == b"x"
    assert dict(task.headers) == {"trace": "abc"}
    assert dict(task.options) == {"queue": "low", "max_retry": 2}


def test_nil_payload() -> None:
    task = Task("ping")
    assert task.payload == b""
    assert task.raw_payload is None
    assert Task("ping", b"").raw_payload == b""


def test_bytes_like_payloads_are_copied_to_bytes() -> None:
    buf = bytearray(b"abc")
    task = Task("t", buf)  # type: ignore[arg-type]
    buf[0] = ord("z")
    assert task.payload == b"abc"
    assert Task("t", memoryview(b"mv")).payload == b"mv"  # type: ignore[arg-type]


def test_headers_and_options_are_read_only() -> None:
    headers = {"a": "1"}
    task = Task("t", headers=headers, queue="q")
    headers["a"] = "2"
    assert task.headers["a"] == "1"
    with pytest.raises(TypeError):
        task.headers["b"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        task.options["queue"] = "other"  # type: ignore[index]


@pytest.mark.parametrize("bad", [{"a": 1}, {2: "b"}, [("a", "b")]])
def test_bad_headers(bad: object) -> None:
    with pytest.raises(ValidationError):
        Task("t", headers=bad)  # type: ignore[arg-type]


def test_task_equality() -> None:
    assert Task("t", b"x") == Task("t", b"x")
    assert Task("t", b"x", headers={"h": "1"}) == Task("t", b"x", headers={"h": "1"})
    assert Task("t", b"x", queue="q") == Task("t", b"x", queue="q")
    assert Task("t", b"x") != Task("u", b"x")
    assert Task("t", b"x") != Task("t", b"y")
    assert Task("t", b"x") != Task("t", b"x", headers={"h": "1"})
    assert Task("t", b"x") != Task("t", b"x", queue="q")
    # nil and empty payloads lock different uniqueness keys, so they are different tasks.
    assert Task("t") != Task("t", b"")
    assert Task("t") != "t"


def test_task_is_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(Task("t"))


def test_repr() -> None:
    assert repr(Task("t", b"x")) == "Task(type='t', payload=b'x')"


def test_from_json_is_compact_utf8() -> None:
    task = Task.from_json("email:send", {"to": "é@b.c", "n": [1, 2]}, queue="mail")
    assert task.payload == '{"to":"é@b.c","n":[1,2]}'.encode()
    assert task.json() == {"to": "é@b.c", "n": [1, 2]}
    assert task.options["queue"] == "mail"


def test_from_json_rejects_what_json_cannot_encode() -> None:
    with pytest.raises(ValidationError, match="cannot be encoded as JSON"):
        Task.from_json("t", {1, 2})


def test_json_of_a_non_json_payload_raises() -> None:
    with pytest.raises(ValueError):
        Task("t", b"\xff").json()


def test_task_info_from_message_maps_go_zero_values() -> None:
    msg = TaskMessage(type="t", payload=b'{"a":1}', id="id1", queue="q", retry=25, timeout=1800)
    info = TaskInfo.from_message(msg, TaskState.PENDING)
    assert info.id == "id1" and info.queue == "q" and info.type == "t"
    assert info.state is TaskState.PENDING
    assert info.max_retry == 25 and info.retried == 0 and info.last_err == ""
    assert info.timeout == timedelta(minutes=30)
    assert info.deadline is None
    assert info.last_failed_at is None
    assert info.completed_at is None
    assert info.retention == timedelta(0)
    assert info.group == ""
    assert info.headers == {}
    assert info.next_process_at is None
    assert info.result is None
    assert info.is_orphaned is False
    assert info.json() == {"a": 1}


def test_task_info_from_message_with_every_field() -> None:
    msg = TaskMessage(
        type="t",
        payload=b"p",
        id="id1",
        queue="q",
        retry=3,
        retried=2,
        error_msg="boom",
        last_failed_at=1_770_076_800,
        timeout=0,
        deadline=1_770_080_400,
        group_key="g",
        retention=86400,
        completed_at=1_770_076_801,
        headers={"k": "v"},
    )
    nxt = datetime(2026, 2, 3, 1, tzinfo=UTC)
    info = TaskInfo.from_message(
        msg, TaskState.RETRY, next_process_at=nxt, result=b"r", is_orphaned=True
    )
    assert info.retried == 2 and info.last_err == "boom"
    assert info.last_failed_at == datetime(2026, 2, 3, tzinfo=UTC)
    assert info.deadline == datetime(2026, 2, 3, 1, tzinfo=UTC)
    assert info.completed_at == datetime(2026, 2, 3, 0, 0, 1, tzinfo=UTC)
    assert info.timeout == timedelta(0)
    assert info.retention == timedelta(days=1)
    assert info.group == "g"
    assert info.headers == {"k": "v"}
    assert info.next_process_at == nxt
    assert info.result == b"r"
    assert info.is_orphaned is True


def test_task_info_is_frozen() -> None:
    info = TaskInfo.from_message(TaskMessage(type="t", id="i", queue="q"), TaskState.PENDING)
    with pytest.raises(AttributeError):
        info.id = "other"  # type: ignore[misc]
