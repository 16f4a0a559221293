"""One damaged value never breaks a reader: the Inspector and the CLI degrade per task and per
queue, say which value is unreadable, and still let an operator remove what they list."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis
from click.testing import Result

import asynq
from asynq._base import keys
from asynq.web import create_wsgi_app
from tests.helpers import seed
from tests.reliability._damage import huge_retention_completed, rewrite_message


@pytest.fixture
def client(redis_url: str) -> Iterator[asynq.Client]:
    with asynq.Client(redis_url) as c:
        yield c


@pytest.fixture
def insp(redis_url: str) -> Iterator[asynq.Inspector]:
    with asynq.Inspector(redis_url) as i:
        yield i


def test_a_huge_retention_is_refused_before_anything_is_written(
    client: asynq.Client, r: redis.Redis
) -> None:
    with pytest.raises(asynq.ValidationError, match="retention must be between 0 and 9223372036"):
        client.enqueue(asynq.Task("t"), queue="q", retention=10**14)
    assert r.keys("asynq:{q}:*") == []


def test_a_task_with_an_unreadable_field_is_listed_with_that_field_marked(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis
) -> None:
    good = client.enqueue(asynq.Task("t", b"ok"), queue="q")
    bad = client.enqueue(asynq.Task("t", b"bad"), queue="q")
    rewrite_message(r, "q", bad.id, retention=10**14, deadline=2**62)
    listed = {t.id: t for t in insp.list_pending_tasks("q")}
    assert listed[good.id].unreadable == ()
    assert set(listed[bad.id].unreadable) == {"retention", "deadline"}
    assert listed[bad.id].payload == b"bad"
    assert insp.get_task_info("q", bad.id).unreadable == listed[bad.id].unreadable


def test_a_completed_task_with_a_huge_retention_is_listed(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis, run: Callable[..., Result]
) -> None:
    task_id = huge_retention_completed(r, client, "q")
    [info] = insp.list_completed_tasks("q")
    assert info.id == task_id and info.unreadable == ("retention",)
    result = run("task", "ls", "-q", "q", "-s", "completed")
    assert result.exit_code == 0, result.output
    assert task_id in result.stdout
    assert "unreadable data in retention" in result.stderr


def test_an_undecodable_task_is_listed_and_can_be_deleted(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis, run: Callable[..., Result]
) -> None:
    garbage = client.enqueue(asynq.Task("t"), queue="q")
    r.hset(keys.task_key("q", garbage.id), "msg", b"\xff\xff not protobuf")
    not_a_hash = client.enqueue(asynq.Task("t"), queue="q")
    r.delete(keys.task_key("q", not_a_hash.id))
    r.set(keys.task_key("q", not_a_hash.id), "a string")
    listed = {t.id: t for t in insp.list_pending_tasks("q")}
    assert listed[garbage.id].unreadable == ("msg",)
    assert listed[not_a_hash.id].unreadable == ("msg",)
    result = run("task", "ls", "-q", "q", "-s", "pending")
    assert result.exit_code == 0 and "(unreadable)" in result.stdout
    assert run("task", "delete", "-q", "q", "-i", garbage.id).exit_code == 0
    insp.delete_task("q", not_a_hash.id)
    assert insp.list_pending_tasks("q") == []
    assert not r.exists(keys.task_key("q", not_a_hash.id))


def test_a_task_with_an_unknown_state_can_be_deleted(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis
) -> None:
    info = client.enqueue(asynq.Task("t"), queue="q")
    r.hset(keys.task_key("q", info.id), "state", "bogus")
    insp.delete_task("q", info.id)
    assert r.llen(keys.pending_key("q")) == 0 and not r.exists(keys.task_key("q", info.id))


def test_a_wrong_type_key_marks_its_counts_and_spares_the_other_queues(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis, run: Callable[..., Result]
) -> None:
    client.enqueue(asynq.Task("t"), queue="fine")
    r.sadd(keys.ALL_QUEUES, "wq")
    r.set(keys.pending_key("wq"), "not a list")
    r.set(keys.processed_total_key("wq"), "NaN")
    info = insp.get_queue_info("wq")
    assert {"pending", "processed_total", "memory_usage"} <= set(info.unreadable)
    assert insp.get_queue_info("fine").pending == 1
    result = run("stats")
    assert result.exit_code == 0, result.output
    assert "cannot talk to Redis" not in result.output
    assert "queue wq: unreadable data in pending" in result.stderr
    assert "fine" in result.stdout


def test_a_broken_queue_can_be_removed_with_force(
    insp: asynq.Inspector, r: redis.Redis, run: Callable[..., Result]
) -> None:
    r.sadd(keys.ALL_QUEUES, "wq")
    r.set(keys.pending_key("wq"), "not a list")
    r.hset(keys.scheduled_key("wq"), "not", "a zset")
    refused = run("queue", "rm", "wq")
    assert refused.exit_code == 1 and "is not empty" in refused.stderr
    removed = run("queue", "rm", "--force", "wq")
    assert removed.exit_code == 0, removed.output
    assert insp.queues() == []
    assert not r.exists(keys.pending_key("wq"), keys.scheduled_key("wq"))


def test_nan_counters_and_infinite_scores_are_marked(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis
) -> None:
    info = client.enqueue(asynq.Task("t"), queue="q", process_in=60)
    r.zadd(keys.scheduled_key("q"), {info.id: float("inf")})
    r.set(keys.processed_key("q", time.time()), "NaN")
    [scheduled] = insp.list_scheduled_tasks("q")
    assert scheduled.unreadable == ("next_process_at",)
    assert "processed" in insp.get_queue_info("q").unreadable
    assert insp.history("q", 1)[0].unreadable == ("processed",)


def test_names_that_cannot_address_a_queue_or_group_are_skipped(
    client: asynq.Client, insp: asynq.Inspector, r: redis.Redis, run: Callable[..., Result]
) -> None:
    client.enqueue(asynq.Task("t"), queue="q", group="g")
    r.sadd(keys.ALL_QUEUES, b"\xff\xfe", b"\t")
    r.sadd(keys.groups_key("q"), b"\xff", b" ")
    assert insp.queues() == ["q"]
    assert [g.group for g in insp.groups("q")] == ["g"]
    result = run("stats")
    assert result.exit_code == 0 and "Traceback" not in result.output


def test_the_cli_names_damaged_data_as_such(
    client: asynq.Client, r: redis.Redis, run: Callable[..., Result]
) -> None:
    info = client.enqueue(asynq.Task("t"), queue="q")
    r.hset(keys.task_key("q", info.id), "state", "bogus")
    result = run("task", "inspect", "-q", "q", "-i", info.id)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == f"error: task {info.id} in queue 'q' holds an unknown state"


def test_heartbeats_with_impossible_times_are_still_listed(
    insp: asynq.Inspector, r: redis.Redis, run: Callable[..., Result], redis_url: str
) -> None:
    later = int(time.time()) + 60
    info = seed.server_info(started=1e15)
    task = seed.message(queue="q")
    worker = seed.worker_info(info, task, started=1e15, deadline=-1e15)
    seed.server(r, info, [worker], expires_at=later)
    entry = seed.scheduler_entry(next_unix=1e15)
    seed.scheduler(r, "sched-1", [entry], expires_at=later)
    [server] = insp.servers()
    assert server.started is None and server.active_workers[0].started is None
    [listed] = insp.scheduler_entries()
    assert listed.next is None
    for args in (["server", "ls"], ["cron", "ls"]):
        result = run(*args)
        assert result.exit_code == 0 and "Traceback" not in result.output
    app = create_wsgi_app(redis_url)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as http:
            for page in ("/servers", "/schedulers", "/api/servers", "/api/scheduler_entries"):
                assert http.get(page).status_code == 200, page
    finally:
        app.close()
