"""``asynq queue ...`` against real Redis: output checked against the raw keys."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result
from redis.crc import key_slot

import asynq
from asynq._base import keys
from asynq.cli._root import cli
from tests.cli._support import fails
from tests.helpers import seed


def test_ls_lists_registered_queues(run: Callable[..., Result], client: asynq.Client) -> None:
    client.enqueue(asynq.Task("a"), queue="critical")
    client.enqueue(asynq.Task("a"))
    result = run("queue", "ls")
    assert result.exit_code == 0
    assert result.stdout.split() == ["critical", "default"]
    assert run("queue", "list").stdout == result.stdout


def test_ls_json(run_json: Callable[..., Any], client: asynq.Client) -> None:
    client.enqueue(asynq.Task("a"), queue="low")
    assert run_json("queue", "ls") == [{"queue": "low"}]


def test_inspect_json_matches_redis(
    run_json: Callable[..., Any], client: asynq.Client, r: redis.Redis
) -> None:
    for _ in range(3):
        client.enqueue(asynq.Task("t", b"x"))
    client.enqueue_in(asynq.Task("t"), 60)
    client.add_to_group(asynq.Task("t"), "g1")
    seed.counters(r, "default", day_unix=int(time.time()), processed=10, failed=4)
    [info] = run_json("queue", "inspect", "default")
    assert info["queue"] == "default"
    assert info["pending"] == r.llen(keys.pending_key("default")) == 3
    assert info["scheduled"] == r.zcard(keys.scheduled_key("default")) == 1
    assert info["aggregating"] == 1
    assert info["groups"] == 1
    assert info["size"] == 5
    assert (info["processed"], info["failed"]) == (10, 4)
    assert info["paused"] is False
    assert info["memory_usage"] > 0


def test_inspect_table_and_many_queues(run: Callable[..., Result], client: asynq.Client) -> None:
    client.enqueue(asynq.Task("t"))
    client.enqueue(asynq.Task("t"), queue="q2")
    result = run("queue", "inspect", "default", "q2")
    assert result.exit_code == 0
    assert result.stdout.count("Queue Info") == 2
    assert "Name:   q2" in result.stdout
    assert "=====" in result.stdout


def test_inspect_unknown_queue_fails_but_shows_the_others(
    run: Callable[..., Result], client: asynq.Client
) -> None:
    client.enqueue(asynq.Task("t"))
    result = run("queue", "inspect", "nope", "default")
    err = fails(result)
    assert 'queue "nope" does not exist' in err
    assert "Name:   default" in result.stdout


def test_history_json(run_json: Callable[..., Any], client: asynq.Client, r: redis.Redis) -> None:
    client.enqueue(asynq.Task("t"))
    now = int(time.time())
    seed.counters(r, "default", day_unix=now, processed=7, failed=1)
    seed.counters(r, "default", day_unix=now - 86400, processed=3, failed=3)
    hist = run_json("queue", "history", "default", "--days", "3")["default"]
    assert [(d["processed"], d["failed"]) for d in hist] == [(7, 1), (3, 3), (0, 0)]
    assert hist[0]["date"].startswith(time.strftime("%Y-%m-%d", time.gmtime(now)))


def test_history_table(run: Callable[..., Result], client: asynq.Client, r: redis.Redis) -> None:
    client.enqueue(asynq.Task("t"))
    seed.counters(r, "default", day_unix=int(time.time()), processed=8, failed=2)
    result = run("queue", "history", "default", "-x", "2")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Queue: default"
    assert lines[2].split() == ["date", "(UTC)", "processed", "failed", "error", "rate"]
    assert lines[4].split()[1:] == ["8", "2", "25.00%"]


def test_pause_and_resume(run: Callable[..., Result], client: asynq.Client, r: redis.Redis) -> None:
    client.enqueue(asynq.Task("t"))
    result = run("queue", "pause", "default")
    assert result.exit_code == 0
    assert 'Successfully paused queue "default"' in result.stdout
    assert r.exists(keys.paused_key("default"))
    err = fails(run("queue", "pause", "default"))
    assert "paused" in err
    assert run("queue", "resume", "default").exit_code == 0
    assert not r.exists(keys.paused_key("default"))
    run("queue", "pause", "default")
    assert run("queue", "unpause", "default").exit_code == 0
    assert not r.exists(keys.paused_key("default"))


def test_remove_refuses_non_empty_queue_without_force(
    run: Callable[..., Result], client: asynq.Client, r: redis.Redis
) -> None:
    client.enqueue(asynq.Task("t"))
    err = fails(run("queue", "rm", "default"))
    assert "not empty" in err and "--force" in err
    assert r.sismember(keys.ALL_QUEUES, "default")
    result = run("queue", "rm", "--force", "default")
    assert result.exit_code == 0, result.output
    assert not r.sismember(keys.ALL_QUEUES, "default")
    assert not r.exists(keys.pending_key("default"))


def test_remove_aliases(run: Callable[..., Result], client: asynq.Client, r: redis.Redis) -> None:
    for q in ("a", "b", "c"):
        client.enqueue(asynq.Task("t"), queue=q)
    assert run("queue", "remove", "-f", "a").exit_code == 0
    assert run("queue", "delete", "-f", "b").exit_code == 0
    assert run("queue", "rm", "-f", "c", "nope").exit_code == 1
    assert not r.smembers(keys.ALL_QUEUES)


@pytest.mark.cluster
def test_queue_ls_cluster_shows_slots_and_nodes(cluster: Any, runner: CliRunner) -> None:
    with asynq.Client(cluster.url) as c:
        c.enqueue(asynq.Task("t"), queue="critical")
    addrs = ",".join(f"{h}:{p}" for h, p in cluster.addrs)
    result = runner.invoke(cli, ["--cluster", "--cluster-addrs", addrs, "queue", "ls", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["queue"] == "critical"
    assert row["keyslot"] == key_slot(b"asynq:{critical}:pending")
    assert row["nodes"] and all(":" in n["addr"] for n in row["nodes"])
    table = runner.invoke(cli, ["--cluster", "--cluster_addrs", addrs, "queue", "ls"])
    assert "Cluster KeySlot" in table.stdout
