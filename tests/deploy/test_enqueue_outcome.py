"""What a failed enqueue tells its caller: ``BrokerUnreachableError`` when nothing was sent, a
plain ``BrokerConnectionError`` when the enqueue may have been written; and why retrying
with the same ``task_id`` is safe either way."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import redis

import asynq
from asynq import Task
from asynq._base import keys
from tests.deploy._proxy import FlakyProxy
from tests.helpers.redis_procs import free_port


def test_nothing_sent_when_redis_cannot_be_reached(make_client) -> None:
    client = make_client(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(asynq.BrokerUnreachableError) as caught:
        client.enqueue(Task("t"), task_id="x")
    assert caught.value.maybe_written is False
    assert isinstance(caught.value, asynq.BrokerConnectionError)


@pytest.fixture
def reply_loser(redis_url: str) -> Iterator[FlakyProxy]:
    """A proxy to the test Redis that loses the reply of every script call (EVALSHA/EVAL),
    run on an event loop of its own so blocking clients can use it too."""
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = FlakyProxy(port, latency=(0.0, 0.0), lose_replies_to=b"EVAL")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    yield proxy
    asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_outcome_unknown_when_the_reply_is_lost(make_client, redis_url, r, reply_loser) -> None:
    direct = make_client(redis_url)
    direct.enqueue(Task("warm-up"))  # the enqueue script is cached: EVALSHA runs it
    with pytest.raises(asynq.BrokerConnectionError) as caught:
        make_client(reply_loser.url).enqueue(Task("t"), task_id="lost-reply")
    assert not isinstance(caught.value, asynq.BrokerUnreachableError)
    assert caught.value.maybe_written is True
    assert reply_loser.cuts >= 1
    # It was written; the safe retry (same task_id) says so with a conflict.
    assert r.exists(keys.task_key("default", "lost-reply"))
    with pytest.raises(asynq.TaskIDConflictError):
        direct.enqueue(Task("t"), task_id="lost-reply")


def test_plain_redis_errors_are_not_mistaken_for_unreachable(redis_url: str) -> None:
    raw = redis.Redis.from_url(redis_url)
    try:
        raw.set("asynq:{default}:pending", "not a list")
        with asynq.Client(redis_url) as client, pytest.raises(asynq.BrokerError) as caught:
            client.enqueue(Task("t"))
        assert not isinstance(caught.value, asynq.BrokerConnectionError)
    finally:
        raw.delete("asynq:{default}:pending")
        raw.close()
