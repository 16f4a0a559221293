"""``options.compose``: Go v0.26.0's option rules (client.go), with no Redis and a fixed clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from asynq import Task, ValidationError
from asynq._base import keys
from asynq._options import (
    DEFAULT_MAX_RETRY,
    DEFAULT_TIMEOUT_SECONDS,
    Composed,
    Placement,
    compose,
    validate_queue_name,
)

NOW = 1_770_076_800.25  # 2026-02-03T00:00:00.25Z


def go(task: Task, **opts: Any) -> Composed:
    return compose(task, opts, NOW, NOW)


def test_go_defaults() -> None:
    c = go(Task("email:send", b"x"))
    assert DEFAULT_MAX_RETRY == 25 and DEFAULT_TIMEOUT_SECONDS == 1800
    assert c.msg.retry == 25
    assert c.msg.queue == "default"
    assert c.msg.timeout == 1800
    assert c.msg.deadline == 0
    assert c.msg.retention == 0
    assert c.msg.unique_key == ""
    assert c.msg.group_key == ""
    assert c.msg.retried == 0 and c.msg.error_msg == "" and c.msg.last_failed_at == 0
    assert c.msg.type == "email:send" and c.msg.payload == b"x"
    assert str(uuid.UUID(c.msg.id)) == c.msg.id and uuid.UUID(c.msg.id).version == 4
    assert c.placement is Placement.PENDING
    assert c.process_at == NOW
    assert c.unique_ttl is None


def test_ids_are_fresh_per_call() -> None:
    task = Task("t")
    assert go(task).msg.id != go(task).msg.id


def test_max_retry() -> None:
    assert go(Task("t"), max_retry=3).msg.retry == 3
    assert go(Task("t"), max_retry=0).msg.retry == 0
    assert go(Task("t"), max_retry=-5).msg.retry == 0  # Go: MaxRetry(n<0) gives 0


@pytest.mark.parametrize("bad", [True, False, 2.0, "3", None])
def test_max_retry_must_be_an_int(bad: object) -> None:
    with pytest.raises(ValidationError):
        go(Task("t"), max_retry=bad)


def test_max_retry_must_fit_the_int32_field() -> None:
    assert go(Task("t"), max_retry=2**31 - 1).msg.retry == 2**31 - 1
    with pytest.raises(ValidationError):
        go(Task("t"), max_retry=2**31)


def test_timeout_only() -> None:
    c = go(Task("t"), timeout=30)
    assert (c.msg.timeout, c.msg.deadline) == (30, 0)
    assert go(Task("t"), timeout=timedelta(minutes=5)).msg.timeout == 300


def test_deadline_only_leaves_timeout_zero() -> None:
    when = datetime(2026, 2, 4, 12, 0, 0, tzinfo=UTC)
    c = go(Task("t"), deadline=when)
    assert c.msg.deadline == int(when.timestamp())
    assert c.msg.timeout == 0
    assert go(Task("t"), deadline=1_770_200_000).msg.deadline == 1_770_200_000


def test_timeout_and_deadline_both_kept() -> None:
    c = go(Task("t"), timeout=60, deadline=1_770_200_000)
    assert (c.msg.timeout, c.msg.deadline) == (60, 1_770_200_000)


def test_explicit_none_or_zero_timeout_means_the_default() -> None:
    assert go(Task("t"), timeout=None).msg.timeout == 1800
    assert go(Task("t"), timeout=0).msg.timeout == 1800  # Go: Timeout(0) is "not set"
    assert go(Task("t"), deadline=None).msg.timeout == 1800


def test_durations_truncate_to_whole_seconds() -> None:
    assert go(Task("t"), timeout=90.9).msg.timeout == 90
    assert go(Task("t"), timeout=timedelta(seconds=1, milliseconds=999)).msg.timeout == 1
    assert go(Task("t"), retention=timedelta(hours=24, milliseconds=500)).msg.retention == 86400
    assert go(Task("t"), deadline=1_770_200_000.9).msg.deadline == 1_770_200_000
    assert go(Task("t"), unique=59.99).unique_ttl == 59


def test_aware_datetimes_in_any_timezone() -> None:
    tokyo = timezone(timedelta(hours=9))
    when = datetime(2026, 2, 4, 9, 0, 0, tzinfo=tokyo)  # = 2026-02-04T00:00:00Z
    assert go(Task("t"), deadline=when).msg.deadline == 1_770_163_200


def test_queue_task_id_group_retention() -> None:
    c = go(Task("t"), queue="critical", task_id="my-id", retention=3600, group="g1")
    assert c.msg.queue == "critical"
    assert c.msg.id == "my-id"
    assert c.msg.retention == 3600
    assert c.msg.group_key == "g1"


def test_enqueue_options_override_task_options() -> None:
    task = Task("t", queue="low", max_retry=1, timeout=10, task_id="a", group="g")
    c = go(task, queue="high", max_retry=7, task_id="b")
    assert c.msg.queue == "high"
    assert c.msg.retry == 7
    assert c.msg.id == "b"
    assert c.msg.timeout == 10  # not overridden: the task's option stays
    assert c.msg.group_key == "g"
    # The task itself is not changed by an override.
    assert go(task).msg.queue == "low"


def test_enqueue_process_at_overrides_task_process_in() -> None:
    # Go appends the call's options after the task's, so the call's ProcessAt wins.
    at = NOW + 3600
    c = go(Task("t", process_in=60), process_at=at)
    assert c.process_at == at
    c = go(Task("t", process_at=at), process_in=60)
    assert c.process_at == NOW + 60


def test_last_of_process_at_and_process_in_wins_within_one_call() -> None:
    assert go(Task("t"), process_in=60, process_at=NOW + 600).process_at == NOW + 600
    assert go(Task("t"), process_at=NOW + 600, process_in=60).process_at == NOW + 60


def test_headers_merge_over_the_task_headers() -> None:
    task = Task("t", headers={"trace": "abc", "tenant": "a"})
    c = go(task, headers={"tenant": "b", "extra": "1"})
    assert dict(c.msg.headers) == {"trace": "abc", "tenant": "b", "extra": "1"}
    assert dict(go(task).msg.headers) == {"trace": "abc", "tenant": "a"}
    assert dict(go(Task("t")).msg.headers) == {}


@pytest.mark.parametrize("bad", [{"k": 1}, {1: "v"}, ["k", "v"], "k=v"])
def test_enqueue_headers_must_map_str_to_str(bad: object) -> None:
    with pytest.raises(ValidationError):
        go(Task("t"), headers=bad)


def test_placement_pending() -> None:
    assert go(Task("t")).placement is Placement.PENDING
    # A process time that is not after now (Go: processAt.After(now) is false) is pending now.
    for at in (NOW, NOW - 100):
        c = go(Task("t"), process_at=at)
        assert c.placement is Placement.PENDING
        assert c.process_at == NOW


def test_placement_scheduled() -> None:
    c = go(Task("t"), process_in=timedelta(minutes=10))
    assert c.placement is Placement.SCHEDULED
    assert c.process_at == NOW + 600
    when = datetime(2026, 2, 5, tzinfo=UTC)
    c = go(Task("t"), process_at=when)
    assert (c.placement, c.process_at) == (Placement.SCHEDULED, when.timestamp())


def test_placement_group() -> None:
    c = go(Task("t"), group="g1")
    assert c.placement is Placement.GROUP
    assert c.msg.group_key == "g1"


def test_scheduled_wins_over_group() -> None:
    # A future task with a group is merely scheduled; the message keeps the group
    # (docs/compatibility.md#quirk-scheduled-group-task-is-not-aggregated).
    c = go(Task("t"), group="g1", process_in=60)
    assert c.placement is Placement.SCHEDULED
    assert c.msg.group_key == "g1"


def test_unique_key_and_ttl() -> None:
    c = go(Task("email:send", b"hello"), unique=timedelta(hours=1), queue="q")
    assert c.msg.unique_key == "asynq:{q}:unique:email:send:5d41402abc4b2a76b9719d911017c592"
    assert c.unique_ttl == 3600
    assert c.placement is Placement.PENDING


def test_unique_key_nil_versus_empty_payload() -> None:
    assert go(Task("t"), unique=10).msg.unique_key == keys.unique_key("default", "t", None)
    assert go(Task("t"), unique=10).msg.unique_key == "asynq:{default}:unique:t:"
    assert go(Task("t", b""), unique=10).msg.unique_key == (
        "asynq:{default}:unique:t:d41d8cd98f00b204e9800998ecf8427e"
    )


def test_unique_key_ignores_headers_and_options() -> None:
    a = go(Task("t", b"p", headers={"h": "1"}), unique=10, max_retry=1)
    b = go(Task("t", b"p"), unique=10, timeout=5)
    assert a.msg.unique_key == b.msg.unique_key


def test_unique_group() -> None:
    c = go(Task("t", b"p"), unique=30, group="g")
    assert c.placement is Placement.GROUP
    assert c.unique_ttl == 30
    assert c.msg.unique_key == keys.unique_key("default", "t", b"p")


def test_scheduled_unique_ttl_runs_until_process_at_plus_ttl_truncated() -> None:
    # Go: int(time.Until(processAt.Add(ttl)).Seconds()); "later" is read just after "now".
    c = compose(Task("t"), {"process_in": 600, "unique": 3600}, NOW, NOW + 0.0001)
    assert c.placement is Placement.SCHEDULED
    assert c.unique_ttl == 4199  # confirmed with the Go peer
    # The clock may read the same instant twice; Go's later read is always a little later.
    c = compose(Task("t"), {"process_in": 600, "unique": 3600}, NOW, NOW)
    assert c.unique_ttl == 4199
    at = datetime(2026, 2, 3, 1, 0, 0, tzinfo=UTC)  # NOW + 3599.75 s
    c = compose(Task("t"), {"process_at": at, "unique": 60}, NOW, NOW)
    assert c.unique_ttl == 3659


def test_whole_number_unique_ttl_when_not_scheduled() -> None:
    assert go(Task("t"), unique=timedelta(minutes=1, milliseconds=500)).unique_ttl == 60


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"queue": ""}, "queue"),
        ({"queue": "   "}, "queue"),
        ({"queue": "a{b"}, "queue"),
        ({"queue": "a}b"}, "queue"),
        ({"queue": None}, "queue"),
        ({"queue": 3}, "queue"),
        ({"task_id": ""}, "task id"),
        ({"task_id": " \t"}, "task id"),
        ({"group": ""}, "group"),
        ({"group": "  "}, "group"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0.5}, "timeout"),
        ({"timeout": timedelta(milliseconds=999)}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": "30s"}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"retention": -10}, "retention"),
        ({"retention": 0.1}, "retention"),
        ({"unique": 0}, "unique"),
        ({"unique": 0.5}, "unique"),
        ({"unique": -3600}, "unique"),
        ({"process_in": -1}, "process_in"),
        ({"process_in": timedelta(seconds=-5)}, "process_in"),
        ({"deadline": datetime(2026, 2, 4)}, "deadline"),
        ({"process_at": datetime(2026, 2, 4)}, "process_at"),
        ({"process_at": "tomorrow"}, "process_at"),
        ({"deadline": float("inf")}, "deadline"),
        ({"no_such_option": 1}, "no_such_option"),
        ({"Queue": "x"}, "Queue"),
    ],
    ids=repr,
)
def test_validation_errors(opts: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        compose(Task("t"), opts, NOW, NOW)


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        go(Task("t"), queue="")


def test_validate_queue_name() -> None:
    assert validate_queue_name("critical") == "critical"
    assert validate_queue_name("with space") == "with space"
    assert validate_queue_name("événements") == "événements"
    for bad in ("", " ", "x{y", "{x}", None):
        with pytest.raises(ValidationError):
            validate_queue_name(bad)


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_blank_task_type_rejected(bad: Any) -> None:
    with pytest.raises(ValidationError, match="type"):
        Task(bad)


@pytest.mark.parametrize("bad", ["text", 3, {"a": 1}, [1, 2]])
def test_payload_must_be_bytes(bad: Any) -> None:
    with pytest.raises(ValidationError, match="payload"):
        Task("t", bad)


def test_unknown_task_option_rejected() -> None:
    with pytest.raises(ValidationError, match="max_retries"):
        Task("t", max_retries=3)  # type: ignore[call-arg]


def test_invalid_task_option_values_fail_at_enqueue() -> None:
    task = Task("t", queue="")
    with pytest.raises(ValidationError):
        go(task)
    assert go(task, queue="ok").msg.queue == "ok"  # an override can repair it
