"""``asynq task ...`` against real Redis: listings checked against raw keys, changes seen there."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from click.testing import Result

import asynq
from asynq._base import keys
from asynq._base.codec import decode_message
from tests.cli._support import fails
from tests.helpers import seed

NOW = int(time.time())


def _msg(r: redis.Redis, qname: str, task_id: str) -> Any:
    return decode_message(r.hget(keys.task_key(qname, task_id), "msg"))


@pytest.fixture
def states(client: asynq.Client, r: redis.Redis) -> dict[str, str]:
    """One task in every state of queue ``default``; returns state -> task id."""
    ids = {
        "pending": client.enqueue(asynq.Task("p", b'{"n":1}')).id,
        "scheduled": client.enqueue_in(asynq.Task("s", b"later"), 3600).id,
        "aggregating": client.add_to_group(asynq.Task("g", b"in-group"), "grp").id,
    }
    ids["active"] = seed.active(r, seed.message("a", b"busy"), lease_until=NOW + 30)
    ids["retry"] = seed.retry(
        r,
        seed.message("r", b"again", retried=2, error_msg="boom", last_failed_at=NOW - 5),
        retry_at=NOW + 600,
    )
    ids["archived"] = seed.archived(
        r, seed.message("x", b"dead", error_msg="fatal", last_failed_at=NOW), archived_at=NOW
    )
    ids["completed"] = seed.completed(
        r, seed.message("c", b"done", retention=3600, completed_at=NOW), result=b"42"
    )
    return ids


@pytest.mark.parametrize(
    "state", ["active", "pending", "scheduled", "retry", "archived", "completed"]
)
def test_ls_json_each_state(
    run_json: Callable[..., Any], states: dict[str, str], state: str
) -> None:
    [task] = run_json("task", "ls", "-q", "default", "-s", state)
    assert task["id"] == states[state]
    assert task["state"] == state
    assert task["queue"] == "default"


def test_ls_json_fields(run_json: Callable[..., Any], states: dict[str, str]) -> None:
    [retry] = run_json("task", "ls", "-q", "default", "-s", "retry")
    assert (retry["type"], retry["payload"], retry["payload_encoding"]) == ("r", "again", "utf-8")
    assert (retry["retried"], retry["max_retry"], retry["last_err"]) == (2, 25, "boom")
    assert retry["next_process_at"] == datetime.fromtimestamp(NOW + 600, UTC).isoformat().replace(
        "+00:00", "Z"
    )
    [done] = run_json("task", "ls", "-q", "default", "-s", "completed")
    assert done["result"] == "42"


def test_ls_aggregating_needs_group(
    run: Callable[..., Result], run_json: Callable[..., Any], states: dict[str, str]
) -> None:
    err = fails(run("task", "ls", "-q", "default", "-s", "aggregating"))
    assert "--group" in err
    [task] = run_json("task", "ls", "-q", "default", "-s", "aggregating", "-g", "grp")
    assert (task["id"], task["group"]) == (states["aggregating"], "grp")


def test_ls_tables_use_go_columns(run: Callable[..., Result], states: dict[str, str]) -> None:
    retry = run("task", "ls", "-q", "default", "-s", "retry").stdout.splitlines()
    assert retry[0].split() == [
        "ID", "Type", "Payload", "Next", "Retry", "Last", "Error", "Last", "Failed", "Retried",
        "Max", "Retry",
    ]  # fmt: skip
    assert states["retry"] in retry[2] and "boom" in retry[2]
    assert re.search(r"\bin \d+m\d+s\b", retry[2])
    sched = run("task", "ls", "-q", "default", "-s", "scheduled").stdout
    assert "Process In" in sched and "later" in sched
    empty = run("task", "ls", "-q", "other", "-s", "pending")
    assert empty.exit_code == 1  # unknown queue


def test_ls_paginates(run_json: Callable[..., Any], client: asynq.Client) -> None:
    ids = [client.enqueue(asynq.Task("t", str(i).encode())).id for i in range(5)]
    page1 = run_json("task", "ls", "-q", "default", "-s", "pending", "--size", "2")
    page3 = run_json("task", "ls", "-q", "default", "-s", "pending", "--size", "2", "--page", "3")
    assert [t["id"] for t in page1] == ids[:2]
    assert [t["id"] for t in page3] == ids[4:]


def test_ls_non_printable_payload(run: Callable[..., Result], client: asynq.Client) -> None:
    client.enqueue(asynq.Task("bin", b"\x00\xff\x10"))
    out = run("task", "ls", "-q", "default", "-s", "pending").stdout
    assert "non-printable bytes" in out
    [t] = json.loads(run("task", "ls", "-q", "default", "-s", "pending", "--json").stdout)
    assert (t["payload"], t["payload_encoding"]) == ("AP8Q", "base64")


def test_bad_state_is_a_usage_error(run: Callable[..., Result]) -> None:
    result = run("task", "ls", "-q", "default", "-s", "sleeping")
    assert result.exit_code == 2
    assert "sleeping" in result.stderr


def test_inspect(run: Callable[..., Result], run_json: Callable[..., Any], states: Any) -> None:
    info = run_json("task", "inspect", "-q", "default", "-i", states["completed"])
    assert (info["state"], info["result"], info["retention"]) == ("completed", "42", 3600.0)
    text = run("task", "inspect", "-q", "default", "-i", states["retry"]).stdout
    assert "Retried: 2/25" in text and "Error message: boom" in text and "again" in text


def test_inspect_caps_a_large_payload_and_result_unless_full(
    run: Callable[..., Result], run_json: Callable[..., Any], r: redis.Redis
) -> None:
    payload = b"p" * 3_000_000
    result = ("a" + "é" * 5000).encode()  # 10,001 bytes: byte 4096 is half an "é"
    seed.register(r, "default")
    tid = seed.completed(
        r, seed.message("big", payload, retention=3600, completed_at=NOW), result=result
    )
    text = run("task", "inspect", "-q", "default", "-i", tid).stdout
    assert len(text) < 10_000  # not the 3 MB
    assert "p" * 4096 + "\n… 2995904 more bytes; --full to show all\n" in text
    assert "\na" + "é" * 2047 + "\n… 5906 more bytes; --full to show all\n" in text

    full = run("task", "inspect", "-q", "default", "-i", tid, "--full").stdout
    assert payload.decode() + "\n" in full and result.decode() + "\n" in full
    assert "more bytes" not in full
    info = run_json("task", "inspect", "-q", "default", "-i", tid)  # JSON: always whole
    assert len(info["payload"]) == len(payload) and info["result"] == result.decode()


def test_inspect_caps_a_binary_payload_as_hex(run: Callable[..., Result], r: redis.Redis) -> None:
    seed.register(r, "default")
    tid = seed.archived(r, seed.message("bin", b"\xff" * 5000), archived_at=NOW)
    text = run("task", "inspect", "-q", "default", "-i", tid).stdout
    assert "(not UTF-8; hex) " + " ".join(["ff"] * 4096) + "\n… 904 more bytes;" in text


def test_inspect_unknown_task_and_queue(run: Callable[..., Result], states: Any) -> None:
    assert "cannot find task" in fails(run("task", "inspect", "-q", "default", "-i", "nope"))
    assert "does not exist" in fails(run("task", "inspect", "-q", "nope", "-i", "x"))


def test_run_archive_delete_change_redis(
    run: Callable[..., Result], states: dict[str, str], r: redis.Redis
) -> None:
    sid, pid, xid = states["scheduled"], states["pending"], states["archived"]
    assert run("task", "run", "-q", "default", "-i", sid).stdout == "task is now pending\n"
    assert r.hget(keys.task_key("default", sid), "state") == b"pending"
    assert sid.encode() in r.lrange(keys.pending_key("default"), 0, -1)
    assert run("task", "archive", "-q", "default", "-i", pid).stdout == "task archived\n"
    assert r.zscore(keys.archived_key("default"), pid) is not None
    assert run("task", "delete", "-q", "default", "-i", xid).stdout == "task deleted\n"
    assert not r.exists(keys.task_key("default", xid))
    assert run("task", "rm", "-q", "default", "-i", pid).exit_code == 0
    assert run("task", "remove", "-q", "default", "-i", sid).exit_code == 0
    assert "cannot find task" in fails(run("task", "delete", "-q", "default", "-i", sid))


def test_run_active_task_fails(run: Callable[..., Result], states: dict[str, str]) -> None:
    assert fails(run("task", "run", "-q", "default", "-i", states["active"]))


def test_cancel_publishes_on_asynq_cancel(
    run: Callable[..., Result], redis_url: str, states: dict[str, str]
) -> None:
    sub = redis.Redis.from_url(redis_url).pubsub()
    sub.subscribe("asynq:cancel")
    sub.get_message(timeout=2)  # subscribe confirmation
    result = run("task", "cancel", states["active"], "other-id")
    assert result.exit_code == 0
    assert f"Sent cancelation signal for task {states['active']}" in result.stdout
    got = [sub.get_message(timeout=2) for _ in range(2)]
    assert [m["data"] for m in got if m] == [states["active"].encode(), b"other-id"]
    sub.close()


def test_bulk_commands(run: Callable[..., Result], client: asynq.Client, r: redis.Redis) -> None:
    for i in range(3):
        client.enqueue_in(asynq.Task("s", str(i).encode()), 3600)
    client.add_to_group(asynq.Task("g"), "grp")
    out = run("task", "archiveall", "-q", "default", "-s", "scheduled")
    assert out.stdout == "3 tasks archived\n"
    assert r.zcard(keys.archived_key("default")) == 3
    assert run("task", "runall", "-q", "default", "-s", "archived").stdout == (
        "3 tasks are now pending\n"
    )
    assert r.llen(keys.pending_key("default")) == 3
    assert run("task", "deleteall", "-q", "default", "-s", "pending").stdout == "3 tasks deleted\n"
    assert r.llen(keys.pending_key("default")) == 0
    assert fails(run("task", "runall", "-q", "default", "-s", "aggregating"))
    out = run("task", "runall", "-q", "default", "-s", "aggregating", "-g", "grp")
    assert out.stdout == "1 tasks are now pending\n"
    assert run("task", "runall", "-q", "default", "-s", "pending").exit_code == 2


def test_enqueue_with_every_option(
    run_json: Callable[..., Any], r: redis.Redis, redis_url: str
) -> None:
    info = run_json(
        "task", "enqueue", "-t", "email:send", "-l", '{"to":"x"}', "--retry", "3",
        "--queue", "mail", "--id", "my-id", "--timeout", "1m30s",
        "--deadline", "2031-01-02T03:04:05Z", "--unique", "1h", "--process_in", "2h",
        "--retention", "24h",
    )  # fmt: skip
    assert (info["id"], info["queue"], info["state"]) == ("my-id", "mail", "scheduled")
    msg = _msg(r, "mail", "my-id")
    assert (msg.type, msg.payload, msg.retry) == ("email:send", b'{"to":"x"}', 3)
    assert (msg.timeout, msg.retention) == (90, 86400)
    assert msg.deadline == int(datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())
    assert r.ttl(msg.unique_key) > 3500
    score = r.zscore(keys.scheduled_key("mail"), "my-id")
    assert score is not None and abs(score - (time.time() + 7200)) < 60


def test_enqueue_process_at_and_group(run_json: Callable[..., Any], r: redis.Redis) -> None:
    info = run_json("task", "enqueue", "-t", "t", "--process-at", "2030-01-01T00:00:00+00:00")
    assert r.zscore(keys.scheduled_key("default"), info["id"]) == 1893456000
    info = run_json("task", "enqueue", "-t", "t", "--group", "batch")
    assert info["state"] == "aggregating"
    assert r.zscore(keys.group_key("default", "batch"), info["id"]) is not None


def test_enqueue_plain_and_from_file(
    run: Callable[..., Result], r: redis.Redis, tmp_path: Any
) -> None:
    out = run("task", "enqueue", "-t", "t", "-l", "hello")
    assert out.exit_code == 0 and "(pending)" in out.stdout
    data = tmp_path / "p.bin"
    data.write_bytes(b"\x00\x01binary")
    run("task", "enqueue", "-t", "t", "--payload-file", str(data), "--id", "f")
    assert _msg(r, "default", "f").payload == b"\x00\x01binary"
    run("task", "enqueue", "-t", "t", "--payload-file", "-", "--id", "s", input="from stdin")
    assert _msg(r, "default", "s").payload == b"from stdin"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--timeout", "30"], "missing unit"),
        (["--process_in", "soon"], "invalid duration"),
        (["--deadline", "2031-01-02 03:04"], "has no zone"),
        (["--deadline", "tomorrow"], "RFC 3339"),
    ],
)
def test_enqueue_rejects_bad_values(
    run: Callable[..., Result], args: list[str], needle: str
) -> None:
    result = run("task", "enqueue", "-t", "t", *args)
    assert result.exit_code == 2
    assert needle in result.stderr


def test_enqueue_duplicate_id_fails(run: Callable[..., Result]) -> None:
    assert run("task", "enqueue", "-t", "t", "--id", "same").exit_code == 0
    assert "conflicts" in fails(run("task", "enqueue", "-t", "t", "--id", "same"))
