"""Every way of reaching Redis, against real servers: unix socket, TLS, Sentinel, db numbers,
and an unreachable server (which must raise ``BrokerError``, never a redis-py exception)."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import redis.asyncio.retry
import redis.backoff
import redis.retry

import asynq
from asynq import BrokerError, RedisConnection, Task, TaskState
from tests.client.layout import message, task_hash, wait_until
from tests.helpers.redis_procs import RedisProcess, free_port


def _raw(port: int, db: int = 0) -> redis.Redis:
    return redis.Redis(port=port, db=db)


def test_unix_socket(make_client, socket_redis) -> None:
    raw = redis.Redis(unix_socket_path=socket_redis.path, db=3)
    raw.flushdb()
    try:
        client = make_client(f"redis-socket://{socket_redis.path}?db=3")
        info = client.enqueue(Task("t", b"sock"))
        assert raw.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]
        assert raw.smembers("asynq:queues") == {b"default"}
        assert message(task_hash(raw, "default", info.id)).payload == b"sock"
    finally:
        raw.flushdb()
        raw.close()


def test_rediss_tls(make_client, tls_redis) -> None:
    url = f"rediss://127.0.0.1:{tls_redis.tls_port}/0"
    client = make_client(RedisConnection.from_url(url, ssl_ca_certs=tls_redis.ca))
    info = client.enqueue(Task("t", b"tls"))
    raw = _raw(tls_redis.proc.port)  # the same server, through its plain port
    try:
        assert raw.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]
        raw.flushdb()
    finally:
        raw.close()


def _no_retry(flavor: str) -> Any:
    if flavor == "sync":
        return redis.retry.Retry(redis.backoff.NoBackoff(), 0)
    return redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0)


def test_rediss_verifies_the_server_certificate(make_client, flavor, tls_redis) -> None:
    # Without the CA that signed the server's certificate the handshake must fail.
    url = f"rediss://127.0.0.1:{tls_redis.tls_port}/0"
    client = make_client(RedisConnection.from_url(url, retry=_no_retry(flavor)))
    with pytest.raises(BrokerError) as caught:
        client.enqueue(Task("t"))
    assert not isinstance(caught.value, redis.RedisError)


def test_plain_redis_url_to_a_tls_port_fails(make_client, flavor, tls_redis) -> None:
    url = f"redis://127.0.0.1:{tls_redis.tls_port}/0"
    client = make_client(RedisConnection.from_url(url, retry=_no_retry(flavor), socket_timeout=2))
    with pytest.raises(BrokerError):
        client.enqueue(Task("t"))


def test_redis_sentinel(make_client, sentinel_redis) -> None:
    url = f"redis-sentinel://127.0.0.1:{sentinel_redis.port}/2?master=mymaster"
    client = make_client(url)
    info = client.enqueue(Task("t", b"sentinel"), queue="s")
    raw = _raw(sentinel_redis.master.port, db=2)
    try:
        assert raw.lrange("asynq:{s}:pending", 0, -1) == [info.id.encode()]
        assert raw.smembers("asynq:queues") == {b"s"}
        assert task_hash(raw, "s", info.id)["state"] == b"pending"
    finally:
        raw.flushdb()
        raw.close()


async def test_redis_sentinel_unknown_master_is_a_broker_error(flavor, sentinel_redis) -> None:
    url = f"redis-sentinel://127.0.0.1:{sentinel_redis.port}?master=nope"
    watcher = redis.Redis(port=sentinel_redis.port)
    try:
        baseline = len(watcher.client_list())
        with pytest.raises(BrokerError) as caught:
            if flavor == "sync":
                client: Any = asynq.Client(url)
                client.enqueue(Task("t"))
            else:
                client = asynq.AsyncClient(url)
                await client.enqueue(Task("t"))
        assert not isinstance(caught.value, redis.RedisError)
        # The failed lookup keeps its connection to the sentinel; close() must end it.
        assert len(watcher.client_list()) > baseline
        if flavor == "sync":
            client.close()
        else:
            await client.close()
        assert wait_until(lambda: len(watcher.client_list()) == baseline)
    finally:
        watcher.close()


@pytest.mark.parametrize("form", ["path", "query"])
def test_db_selection(make_client, redis_url, r, form: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    url = f"{base}/5" if form == "path" else f"{base}/?db=5"
    db5 = redis.Redis.from_url(f"{base}/5")
    db5.flushdb()
    try:
        info = make_client(url).enqueue(Task("t"))
        assert db5.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]
        assert db5.smembers("asynq:queues") == {b"default"}
        assert r.keys("*") == []  # nothing in db 0
    finally:
        db5.flushdb()
        db5.close()


def test_unreachable_redis_is_a_broker_error(make_client, flavor) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    client = make_client(RedisConnection.from_url(url, retry=_no_retry(flavor)))
    for call in (
        lambda: client.enqueue(Task("t")),
        lambda: client.enqueue(Task("t"), unique=60, process_in=60),
        lambda: client.enqueue_many([Task("t"), Task("u")]),
    ):
        with pytest.raises(BrokerError) as caught:
            call()
        assert not isinstance(caught.value, redis.RedisError)
        assert isinstance(caught.value.__cause__, redis.ConnectionError)


def test_queue_registered_after_redis_comes_back(make_client, flavor) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    client = make_client(RedisConnection.from_url(url, retry=_no_retry(flavor)))
    with pytest.raises(BrokerError):
        client.enqueue(Task("t"), queue="late")
    server = RedisProcess(port)
    try:
        info = client.enqueue(Task("t"), queue="late")
        assert info.state is TaskState.PENDING
        raw = _raw(port)
        try:
            assert raw.smembers("asynq:queues") == {b"late"}
        finally:
            raw.close()
    finally:
        server.stop()
