"""``asynq:queues`` registration and the wake-up PUBLISH on the pending channel."""

from __future__ import annotations

from typing import Any

import pytest

from asynq import FakeClock, Task, TaskIDConflictError


def sadd_calls(r: Any) -> int:
    """SADD commands the server has run since CONFIG RESETSTAT (no MONITOR needed)."""
    stats = r.info("commandstats")
    return int(stats.get("cmdstat_sadd", {}).get("calls", 0))


@pytest.fixture
def reset_stats(r: Any) -> None:
    r.config_resetstat()


def test_first_enqueue_registers_the_queue(make_client, redis_url, r, reset_stats) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t"), queue="emails")
    assert r.smembers("asynq:queues") == {b"emails"}
    assert sadd_calls(r) == 1


def test_registered_queue_is_not_added_again(make_client, redis_url, r, reset_stats) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t"))
    client.enqueue(Task("t"))
    client.enqueue(Task("t"), process_in=60)
    client.enqueue_many([Task("t"), Task("t")])
    assert sadd_calls(r) == 1
    client.enqueue(Task("t"), queue="second")
    assert sadd_calls(r) == 2
    assert r.smembers("asynq:queues") == {b"default", b"second"}


def test_enqueue_many_registers_each_queue_once(make_client, redis_url, r, reset_stats) -> None:
    client = make_client(redis_url)
    client.enqueue_many(
        [Task("a"), (Task("b"), {"queue": "q2"}), (Task("c"), {"queue": "q2"}), Task("d")]
    )
    assert sadd_calls(r) == 2
    assert r.smembers("asynq:queues") == {b"default", b"q2"}


def test_registration_is_refreshed_after_a_minute(make_client, redis_url, r) -> None:
    # Go registers once per process (docs/compatibility.md#quirk-queue-registered-once): a
    # queue removed by the Inspector stays invisible. Here a removed queue reappears once the
    # cached registration expires.
    clock = FakeClock(1_770_076_800.0)
    client = make_client(redis_url, clock=clock)
    client.enqueue(Task("t"))
    r.srem("asynq:queues", "default")
    client.enqueue(Task("t"))
    assert r.smembers("asynq:queues") == set()
    clock.advance(61)
    client.enqueue(Task("t"))
    assert r.smembers("asynq:queues") == {b"default"}


def test_each_client_registers_for_itself(make_client, redis_url, r, reset_stats) -> None:
    make_client(redis_url).enqueue(Task("t"))
    make_client(redis_url).enqueue(Task("t"))
    assert sadd_calls(r) == 2


def test_pending_enqueue_publishes_the_id(make_client, redis_url, r) -> None:
    pubsub = r.pubsub()
    pubsub.subscribe("asynq:{jobs}:pending")
    try:
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        client = make_client(redis_url)
        # Scheduled and grouped tasks are not ready: they publish nothing, so the first
        # message is the pending task's id.
        client.enqueue(Task("t"), queue="jobs", process_in=60)
        client.add_to_group(Task("t"), "g", queue="jobs")
        plain = client.enqueue(Task("t"), queue="jobs")
        unique = client.enqueue(Task("t", b"u"), queue="jobs", unique=60)
        many = client.enqueue_many([Task("t")], queue="jobs")
        received = [pubsub.get_message(timeout=5) for _ in range(3)]
        assert [m["channel"] for m in received] == [b"asynq:{jobs}:pending"] * 3
        assert [m["data"] for m in received] == [
            plain.id.encode(),
            unique.id.encode(),
            many[0].id.encode(),
        ]
    finally:
        pubsub.close()


def test_refused_enqueue_publishes_nothing(make_client, redis_url, r) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t"), task_id="x")
    pubsub = r.pubsub()
    pubsub.subscribe("asynq:{default}:pending")
    try:
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        with pytest.raises(TaskIDConflictError):
            client.enqueue(Task("t"), task_id="x")
        last = client.enqueue(Task("t"))
        assert pubsub.get_message(timeout=5)["data"] == last.id.encode()
    finally:
        pubsub.close()
