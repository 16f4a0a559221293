"""Producer → worker → Inspector over TLS (``rediss://``, a throwaway CA) as an ACL user that
may touch only ``asynq:*`` keys and channels, with the default user locked behind a password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

import asynq
from asynq import RedisConnection, SkipRetry, Task
from tests.client.servers import TlsRedis
from tests.deploy._support import Recorder, serving
from tests.helpers.waiting import wait_until

USER, PASSWORD = "asynq-app", "s3cret-Pa55"
ADMIN_PASSWORD = "admin-Pa55"


@pytest.fixture(scope="module")
def acl_tls_redis() -> Iterator[TlsRedis]:
    server = TlsRedis()
    admin = redis.Redis(port=server.proc.port)
    admin.execute_command(
        "ACL", "SETUSER", USER, "on", f">{PASSWORD}", "~asynq:*", "&asynq:*", "+@all"
    )
    admin.execute_command("ACL", "SETUSER", "default", f">{ADMIN_PASSWORD}")
    admin.close()
    yield server
    server.stop()


def _conn(server: TlsRedis, password: str = PASSWORD) -> RedisConnection:
    url = f"rediss://{USER}:{password}@127.0.0.1:{server.tls_port}/0"
    return RedisConnection.from_url(url, ssl_ca_certs=server.ca)


class Failing(Recorder):
    """Records like :class:`Recorder`; a ``fail`` task is archived at once."""

    async def __call__(self, task: asynq.ActiveTask) -> None:
        if task.type == "fail":
            raise SkipRetry("refused")
        await super().__call__(task)


async def test_producer_worker_inspector_over_tls_with_acl(acl_tls_redis: TlsRedis) -> None:
    conn = _conn(acl_tls_redis)
    with asynq.Client(conn) as client:
        ids = [client.enqueue(Task("ok", b"%d" % i)).id for i in range(20)]
        failing = client.enqueue(Task("fail")).id
    handler = Failing()
    async with serving(conn, handler) as server:
        await handler.wait_for(ids)
        async with asynq.AsyncInspector(conn) as insp:
            await wait_until(lambda: _archived(insp), within=30)
            archived = await insp.list_archived_tasks("default")
            assert [t.id for t in archived] == [failing]
            assert "refused" in archived[0].last_err
            assert server.server_id in {s.id for s in await insp.servers()}
            info = await insp.get_queue_info("default")
            assert info.processed >= 21 and info.failed >= 1
    plain = redis.Redis(port=acl_tls_redis.proc.port, password=ADMIN_PASSWORD)
    try:  # every key asynq wrote is under asynq:* (the ACL would have refused any other)
        assert all(k.startswith(b"asynq:") for k in plain.keys("*"))
    finally:
        plain.close()


async def _archived(insp: asynq.AsyncInspector) -> bool:
    return (await insp.get_queue_info("default")).archived == 1


def test_a_wrong_password_is_a_clear_connection_error(acl_tls_redis: TlsRedis) -> None:
    with (
        asynq.Client(_conn(acl_tls_redis, "wrong-password")) as client,
        pytest.raises(asynq.BrokerConnectionError) as caught,
    ):
        client.enqueue(Task("t"))
    assert "wrong-password" not in str(caught.value)
    assert "password" in str(caught.value).lower() or "auth" in str(caught.value).lower()
