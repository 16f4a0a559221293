"""asynq_stats, asynq_pause / asynq_unpause and asynq_scheduler, run as subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import redis

from asynq import Inspector
from tests_django.conftest import HERE, check_scheduler_enqueues, manage, running, stop
from tests_django.shop import tasks


def test_stats_as_table_and_json(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    tasks.add.enqueue(3, 4)
    tasks.ship.enqueue(1)
    Inspector(r).pause_queue("critical")

    table = manage("asynq_stats")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["queue", "pending", "active"]
    assert [row.split()[:2] for row in rows] == [["critical", "(paused)"], ["default", "2"]]

    data = json.loads(manage("asynq_stats", "--json").stdout)
    assert {q["queue"]: q["pending"] for q in data["queues"]} == {"critical": 1, "default": 2}
    assert data["totals"]["pending"] == 3


def test_stats_interval_reports_until_interrupted(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    with running("asynq_stats", "--json", "--interval", "0.2") as proc:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        stop(proc, signal.SIGINT)
    assert proc.returncode == 0
    assert [json.loads(line)["totals"]["pending"] for line in lines] == [1, 1]


def test_pause_and_unpause(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    done = manage("asynq_pause", "default")
    assert done.returncode == 0, done.stderr
    assert Inspector(r).get_queue_info("default").paused
    again = manage("asynq_pause", "default")
    assert again.returncode != 0
    assert again.stderr.strip() == 'CommandError: queue "default" is already paused'
    assert manage("asynq_unpause", "default").returncode == 0
    assert not Inspector(r).get_queue_info("default").paused


def test_pausing_an_unknown_queue_is_a_one_line_command_error(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)  # "default" is in Redis; "critical" only in ASYNQ QUEUES
    for command in ("asynq_pause", "asynq_unpause"):
        done = manage(command, "default", "defualt")
        assert done.returncode != 0
        assert done.stderr.strip() == (
            "CommandError: unknown queue 'defualt': not in Redis and not in ASYNQ QUEUES "
            "(known: critical, default)"
        )
        assert done.stdout == ""  # checked before anything is paused
    assert not Inspector(r).get_queue_info("default").paused
    assert r.exists("asynq:{defualt}:paused") == 0

    configured = manage("asynq_pause", "critical")  # no task yet, but a configured queue
    assert configured.returncode == 0, configured.stderr
    assert r.exists("asynq:{critical}:paused") == 1


def test_bad_settings_are_one_line_command_errors() -> None:
    done = subprocess.run(
        [sys.executable, str(HERE / "manage.py"), "asynq_stats"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent), "ASYNQ_REDIS_URL": "http://x"},
        timeout=60,
    )
    assert done.returncode != 0
    assert "(asynq.E002)" in done.stderr
    assert "Traceback" not in done.stderr


def test_scheduler_lists_and_enqueues_settings_and_code_entries(r: redis.Redis) -> None:
    listed = manage("asynq_scheduler", "--list")
    assert listed.returncode == 0, listed.stderr
    types = sorted(line.split("\t")[1] for line in listed.stdout.splitlines())
    assert types == ["native:touch", "tests_django.shop.tasks.add"]

    check_scheduler_enqueues(Inspector(r))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("verbosity", "shown", "hidden"),
    [
        ("0", [], ["INFO", "DEBUG"]),
        ("1", ["INFO asynq.server: Starting processing"], ["DEBUG"]),
        ("2", ["INFO asynq.server: Starting processing", "DEBUG asynq_django: task "], []),
    ],
)
def test_worker_verbosity_sets_the_log_level(
    r: redis.Redis, verbosity: str, shown: list[str], hidden: list[str]
) -> None:
    tasks.add.enqueue(1, 2)
    done = manage("asynq_worker", "--burst", "-v", verbosity)
    assert done.returncode == 0, done.stderr
    assert Inspector(r).get_queue_info("default").processed == 1
    for text in shown:
        assert text in done.stderr, done.stderr
    for level in hidden:
        assert f" {level} " not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["asynq_stats", "--interval", "-1"], "CommandError: --interval must be >= 0, not -1.0"),
        (["asynq_stats"], "CommandError: redis: ConnectionError: "),
        (["asynq_pause", "default"], "CommandError: redis: ConnectionError: "),
        (["asynq_scheduler", "--list"], None),  # listing needs no Redis
    ],
)
def test_commands_without_redis_or_with_bad_input_end_in_one_line(
    args: list[str], message: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNQ_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    done = manage(*args)
    if message is None:
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 1
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
