"""Raw reads of Go's Redis layout for the client tests (docs/compatibility.md#redis-keys)."""

from __future__ import annotations

import time
from typing import Any

from asynq._base.codec import TaskMessage, decode_message


def task_hash(r: Any, qname: str, task_id: str) -> dict[str, bytes]:
    """The task hash ``asynq:{q}:t:<id>`` with str field names."""
    raw = r.hgetall(f"asynq:{{{qname}}}:t:{task_id}")
    return {k.decode(): v for k, v in raw.items()}


def message(fields: dict[str, bytes]) -> TaskMessage:
    return decode_message(fields["msg"])


def expected_message(**fields: Any) -> TaskMessage:
    """A TaskMessage with Go's client defaults unless overridden."""
    values: dict[str, Any] = {"queue": "default", "retry": 25, "timeout": 1800}
    values.update(fields)
    return TaskMessage(**values)


def assert_ns_close_to_now(value: bytes, before_ns: int, after_ns: int) -> None:
    """``pending_since``: a decimal integer of Unix nanoseconds taken during the call."""
    text = value.decode()
    assert text.isdigit(), f"pending_since must be an integer, got {text!r}"
    assert before_ns <= int(text) <= after_ns


def assert_integer_score(score: float | None, expected: int) -> None:
    assert score is not None
    assert score == int(score), f"score {score} is not an integer (Go tools reject it)"
    assert int(score) == expected


def all_keys(r: Any) -> set[str]:
    return {k.decode() for k in r.keys("*")}


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true (for effects the server applies asynchronously)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
