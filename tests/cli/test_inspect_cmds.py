"""``asynq stats``, ``group``, ``server`` and ``cron`` against real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result

import asynq
from asynq.cli._root import cli
from tests.cli._support import fails
from tests.helpers import seed

NOW = int(time.time())


def test_stats_json_matches_redis(
    run_json: Callable[..., Any], client: asynq.Client, r: redis.Redis
) -> None:
    client.enqueue(asynq.Task("t"))
    client.enqueue(asynq.Task("t"), queue="low")
    client.enqueue_in(asynq.Task("t"), 60, queue="low")
    seed.counters(r, "low", day_unix=NOW, processed=4, failed=1)
    stats = run_json("stats")
    agg = stats["aggregate"]
    assert (agg["pending"], agg["scheduled"], agg["processed"], agg["failed"]) == (2, 1, 4, 1)
    assert [q["queue"] for q in stats["queues"]] == ["default", "low"]
    assert stats["queues"][1]["size"] == 2
    assert stats["redis"]["redis_version"] == r.info()["redis_version"]


def test_stats_table(run: Callable[..., Result], client: asynq.Client, r: redis.Redis) -> None:
    client.enqueue(asynq.Task("t"), queue="q1")
    r.set("asynq:{q1}:paused", NOW)
    out = run("stats").stdout
    for title in ("Task Count by State", "Task Count by Queue", "Daily Stats", "Redis Info"):
        assert title in out
    assert "q1 (paused)" in out
    assert r.info()["redis_version"] in out


@pytest.mark.cluster
def test_stats_on_a_cluster(cluster: Any) -> None:
    with asynq.Client(cluster.url) as c:
        c.enqueue(asynq.Task("t"), queue="a")
        c.enqueue(asynq.Task("t"), queue="b")
    addrs = ",".join(f"{h}:{p}" for h, p in cluster.addrs)
    result = CliRunner().invoke(cli, ["--cluster", "--cluster-addrs", addrs, "stats"])
    assert result.exit_code == 0, result.output
    assert "Redis Cluster Info" in result.stdout
    assert "OK" in result.stdout
    assert "a" in result.stdout.split() and "b" in result.stdout.split()


def test_group_ls(run: Callable[..., Result], run_json: Callable[..., Any], client: Any) -> None:
    client.add_to_group(asynq.Task("t"), "g1")
    client.add_to_group(asynq.Task("t"), "g1")
    client.add_to_group(asynq.Task("t"), "g2")
    assert run_json("group", "ls", "-q", "default") == [
        {"group": "g1", "size": 2},
        {"group": "g2", "size": 1},
    ]
    assert run("group", "ls", "-q", "default").stdout.splitlines()[2].split() == ["g1", "2"]
    assert "No groups" in run("group", "ls", "-q", "empty").stdout


def test_server_ls(run: Callable[..., Result], run_json: Callable[..., Any], r: Any) -> None:
    now = int(time.time())  # not the module's: liveness is judged against the clock
    assert run("server", "ls").stdout == "No running servers\n"
    info = seed.server_info(
        host="web-1", pid=77, concurrency=8, queues={"critical": 6, "default": 3, "low": 1}
    )
    msg = seed.message("work", b"payload")
    worker = seed.worker_info(info, msg, started=now - 5, deadline=now + 60)
    seed.server(r, info, [worker], expires_at=now + 60)
    [srv] = run_json("server", "ls")
    assert (srv["host"], srv["pid"], srv["concurrency"], srv["status"]) == (
        "web-1",
        77,
        8,
        "active",
    )
    assert srv["active_workers"][0]["task_id"] == msg.id
    row = run("server", "ls").stdout.splitlines()[2]
    assert "web-1" in row and "1/8" in row and "critical:6 default:3 low:1" in row


def test_cron_ls_and_history(
    run: Callable[..., Result], run_json: Callable[..., Any], r: Any
) -> None:
    now = int(time.time())  # not the module's: liveness is judged against the clock
    assert run("cron", "ls").stdout == "No scheduler entries\n"
    entry = seed.scheduler_entry(
        spec="@every 30s",
        task_type="report",
        payload=b"daily",
        options=['Queue("low")', "MaxRetry(3)"],
        next_unix=now + 30,
        prev_unix=now - 30,
    )
    seed.scheduler(r, "host:1:abc", [entry], expires_at=now + 60)
    seed.scheduler_event(r, entry.id, "task-1", enqueued_ns=(now - 60) * 10**9)
    seed.scheduler_event(r, entry.id, "task-2", enqueued_ns=(now - 30) * 10**9)
    [e] = run_json("cron", "ls")
    assert (e["id"], e["spec"], e["task"]["type"]) == (entry.id, "@every 30s", "report")
    assert e["opts"] == ['Queue("low")', "MaxRetry(3)"]
    table = run("cron", "ls").stdout
    assert "report" in table and 'Queue("low")' in table and "ago" in table
    hist = run_json("cron", "history", entry.id)
    assert [ev["task_id"] for ev in hist[entry.id]] == ["task-2", "task-1"]
    paged = run_json("cron", "history", entry.id, "--size", "1", "--page", "2")
    assert [ev["task_id"] for ev in paged[entry.id]] == ["task-1"]
    out = run("cron", "history", entry.id, "unknown-entry").stdout
    assert "task-2" in out and "No scheduler enqueue events found for entry: unknown-entry" in out


def test_unreachable_redis_is_a_clean_error(runner: CliRunner) -> None:
    from tests.helpers.redis_procs import free_port

    result = runner.invoke(cli, ["--uri", f"127.0.0.1:{free_port()}", "queue", "ls"])
    err = fails(result)
    assert "cannot talk to Redis" in err


def test_bad_uri_is_a_clean_error(runner: CliRunner) -> None:
    assert "unsupported redis URL scheme" in fails(
        runner.invoke(cli, ["--uri", "http://x", "stats"])
    )


def test_env_var_and_db_flag(runner: CliRunner, redis_url: str, r: redis.Redis) -> None:
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    other = redis.Redis.from_url(base + "/5")
    other.flushdb()
    other.sadd("asynq:queues", "in-db-5")
    result = runner.invoke(cli, ["queue", "ls"], env={"ASYNQ_REDIS_URL": base + "/5"})
    assert result.stdout.split() == ["in-db-5"]
    result = runner.invoke(cli, ["--uri", base, "--db", "5", "queue", "ls"])
    assert result.stdout.split() == ["in-db-5"]
    other.flushdb()
    other.close()
