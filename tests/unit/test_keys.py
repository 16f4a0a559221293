"""Every Redis key builder against the literal strings Go asynq v0.26.0 produces (base.go)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from asynq._base import keys


def test_global_keys() -> None:
    assert keys.ALL_QUEUES == "asynq:queues"
    assert keys.ALL_SERVERS == "asynq:servers"
    assert keys.ALL_WORKERS == "asynq:workers"
    assert keys.ALL_SCHEDULERS == "asynq:schedulers"
    assert keys.CANCEL_CHANNEL == "asynq:cancel"
    assert keys.DEFAULT_QUEUE == "default"


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        (keys.queue_key_prefix, "asynq:{{{q}}}:"),
        (keys.task_key_prefix, "asynq:{{{q}}}:t:"),
        (keys.group_key_prefix, "asynq:{{{q}}}:g:"),
        (keys.pending_key, "asynq:{{{q}}}:pending"),
        (keys.active_key, "asynq:{{{q}}}:active"),
        (keys.scheduled_key, "asynq:{{{q}}}:scheduled"),
        (keys.retry_key, "asynq:{{{q}}}:retry"),
        (keys.archived_key, "asynq:{{{q}}}:archived"),
        (keys.lease_key, "asynq:{{{q}}}:lease"),
        (keys.completed_key, "asynq:{{{q}}}:completed"),
        (keys.paused_key, "asynq:{{{q}}}:paused"),
        (keys.processed_total_key, "asynq:{{{q}}}:processed"),
        (keys.failed_total_key, "asynq:{{{q}}}:failed"),
        (keys.groups_key, "asynq:{{{q}}}:groups"),
        (keys.all_aggregation_sets, "asynq:{{{q}}}:aggregation_sets"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
@pytest.mark.parametrize("qname", ["default", "critical", "my queue", "événements"])
def test_per_queue_keys(builder, expected: str, qname: str) -> None:
    assert builder(qname) == expected.format(q=qname)


def test_task_key() -> None:
    assert (
        keys.task_key("default", "7d1b3f2e-5c1a-4f0e-9b7a-2d3c4e5f6a7b")
        == "asynq:{default}:t:7d1b3f2e-5c1a-4f0e-9b7a-2d3c4e5f6a7b"
    )
    assert keys.task_key("low", "custom-id") == "asynq:{low}:t:custom-id"


def test_group_keys() -> None:
    assert keys.group_key("default", "mygroup") == "asynq:{default}:g:mygroup"
    assert (
        keys.aggregation_set_key("default", "mygroup", "0a9b6c2f-set")
        == "asynq:{default}:g:mygroup:0a9b6c2f-set"
    )


def test_unique_key_md5_of_payload() -> None:
    assert (
        keys.unique_key("default", "email:send", b'{"to":"a@b.c"}')
        == "asynq:{default}:unique:email:send:9c101e63e8b8c4cb30a5402296afa24c"
    )
    assert (
        keys.unique_key("custom", "reindex", b"hello")
        == "asynq:{custom}:unique:reindex:5d41402abc4b2a76b9719d911017c592"
    )


def test_unique_key_nil_versus_empty_payload() -> None:
    # Go's nil payload leaves the checksum out; an empty non-nil slice hashes to md5("").
    assert keys.unique_key("default", "ping", None) == "asynq:{default}:unique:ping:"
    assert (
        keys.unique_key("default", "ping", b"")
        == "asynq:{default}:unique:ping:d41d8cd98f00b204e9800998ecf8427e"
    )


def test_server_worker_scheduler_keys() -> None:
    assert keys.server_info_key("h", 42, "sid") == "asynq:servers:{h:42:sid}"
    assert keys.workers_key("h", 42, "sid") == "asynq:workers:{h:42:sid}"
    assert (
        keys.server_info_key("web-1.local", 9001, "0b6a1c0e-1f2d-4e3c-8b9a-7d6e5f4c3b2a")
        == "asynq:servers:{web-1.local:9001:0b6a1c0e-1f2d-4e3c-8b9a-7d6e5f4c3b2a}"
    )
    assert keys.scheduler_entries_key("myhost:4242:2f0c") == "asynq:schedulers:{myhost:4242:2f0c}"
    assert keys.scheduler_history_key("entry-1") == "asynq:scheduler_history:entry-1"


def _unix(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_daily_keys_use_the_utc_date() -> None:
    noon = _unix(2026, 2, 3, 12, 0, 0)
    assert keys.processed_key("q", noon) == "asynq:{q}:processed:2026-02-03"
    assert keys.failed_key("q", noon) == "asynq:{q}:failed:2026-02-03"
    assert keys.processed_key("q", _unix(2026, 2, 3, 0, 0, 0)).endswith(":2026-02-03")
    assert keys.processed_key("q", _unix(2026, 2, 3, 23, 59, 59) + 0.999).endswith(":2026-02-03")
    assert keys.failed_key("q", _unix(2026, 2, 4, 0, 0, 0)).endswith(":2026-02-04")


def test_daily_keys_ignore_the_local_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    # 23:30 UTC is already the next day in Tokyo and still the same day in Los Angeles.
    late = _unix(2026, 2, 3, 23, 30, 0)
    for tz in ("Asia/Tokyo", "America/Los_Angeles"):
        monkeypatch.setenv("TZ", tz)
        time.tzset()
        assert keys.processed_key("q", late) == "asynq:{q}:processed:2026-02-03"
    monkeypatch.undo()
    time.tzset()
