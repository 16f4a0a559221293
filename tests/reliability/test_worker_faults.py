"""No task is stranded by damaged data, a broken queue or a misbehaving handler: every task a
worker takes either runs or is archived (or given back) with a clear error, and the worker and
its background components keep going. Real redis-server and real Go asynq throughout."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

import asynq
from asynq._base import keys
from asynq._base.codec import TaskMessage, decode_message, encode_message
from asynq._broker.drivers import AsyncDriver
from asynq.server import ActiveTask, Config
from asynq.server import _heartbeat as heartbeat
from asynq.server._aggregator import Aggregator
from tests.helpers.waiting import wait_until
from tests.server.conftest import make_recoverer, start_server
from tests.server.gohelpers import go_json

__all__ = ["start_server"]  # the fixture, used by name

Q = "default"


@pytest.fixture
def client(redis_url: str) -> Iterator[asynq.Client]:
    with asynq.Client(redis_url) as c:
        yield c


class Recorder:
    """A handler that notes the ids it ran."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    async def __call__(self, task: ActiveTask) -> None:
        self.ran.append(task.id)


def active_and_leased(r: redis.Redis, queue: str = Q) -> tuple[int, int]:
    return r.llen(keys.active_key(queue)), r.zcard(keys.lease_key(queue))


# -- a failure in one queue never strands the tasks taken from another ------------------------


async def test_a_queue_holding_a_foreign_value_never_strands_tasks_of_the_others(
    start_server: Any, client: asynq.Client, r: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    r.set(keys.pending_key("wq"), "a foreign value")
    ids = [client.enqueue(asynq.Task("t"), max_retry=0).id for _ in range(12)]
    handler = Recorder()
    await start_server(handler, queues={Q: 1, "wq": 1}, concurrency=3)
    await wait_until(lambda: sorted(handler.ran) == sorted(ids))
    await wait_until(lambda: active_and_leased(r) == (0, 0))
    assert r.zcard(keys.archived_key(Q)) == 0  # none leased and failed as "lease expired"
    assert "Dequeue error in queue 'wq'" in caplog.text


async def test_a_queue_the_redis_user_may_not_touch_never_strands_the_others(
    start_server: Any, client: asynq.Client, r: redis.Redis, redis_url: str
) -> None:
    # The worker's Redis user may use queue "default" but nothing of queue "secret".
    r.execute_command(
        "ACL", "SETUSER", "limited", "on", ">pw", "+@all", "&*",
        "~asynq:{default}:*", "~asynq:servers*", "~asynq:workers*", "~asynq:queues",
    )  # fmt: skip
    secret = client.enqueue(asynq.Task("t"), queue="secret").id
    ids = [client.enqueue(asynq.Task("t")).id for _ in range(6)]
    # A due retry of "default", and one of "secret", for the forwarder.
    ids.append(client.enqueue(asynq.Task("t"), process_in=1).id)
    client.enqueue(asynq.Task("t"), queue="secret", process_in=1)
    # A task of "default" whose worker died long ago, for the recoverer.
    orphan = client.enqueue(asynq.Task("t")).id
    r.lrem(keys.pending_key(Q), 0, orphan)
    r.lpush(keys.active_key(Q), orphan)
    r.zadd(keys.lease_key(Q), {orphan: int(time.time()) - 120})
    r.hset(keys.task_key(Q, orphan), "state", "active")
    handler = Recorder()
    limited_url = redis_url.replace("redis://", "redis://limited:pw@")
    server = asynq.Server(limited_url, Config(queues={"secret": 1, Q: 1}, concurrency=2,
                                              task_check_interval=0.2))  # fmt: skip
    await server.start(handler)
    try:
        await wait_until(lambda: set(ids) <= set(handler.ran), within=30)
        await wait_until(lambda: r.hget(keys.task_key(Q, orphan), "state") == b"retry", within=30)
        assert active_and_leased(r) == (0, 0)
        assert r.lrange(keys.pending_key("secret"), 0, -1) == [secret.encode()]
    finally:
        await server.shutdown()
        r.execute_command("ACL", "DELUSER", "limited")


# -- damaged task data is archived with a clear error, never stuck or re-run -------------------


def _encoded(task_id: str, queue: str = Q, **fields: Any) -> bytes:
    return encode_message(TaskMessage(type="t", id=task_id, queue=queue, retry=25, **fields))


DAMAGE = {
    "garbage": lambda tid: b"\xffgarbage\x00",
    "truncated": lambda tid: _encoded(tid, payload=b"x" * 40)[:-7],
    "not UTF-8": lambda tid: _encoded(tid).replace(b"\x0a\x01t", b"\x0a\x02\xff\xfe"),
}


def _store(r: redis.Redis, client: asynq.Client, how: str) -> str:
    tid = client.enqueue(asynq.Task("t")).id
    key = keys.task_key(Q, tid)
    if how == "no msg":
        r.hdel(key, "msg")
    else:
        r.hset(key, "msg", DAMAGE[how](tid))
    return tid


@pytest.mark.interop
@pytest.mark.parametrize("how", ["garbage", "truncated", "not UTF-8", "no msg"])
async def test_a_task_whose_message_cannot_be_read_is_archived_and_go_sees_it(
    start_server: Any, client: asynq.Client, r: redis.Redis, redis_url: str, how: str
) -> None:
    healthy = client.enqueue(asynq.Task("t")).id
    damaged = _store(r, client, how)
    original = r.hget(keys.task_key(Q, damaged), "msg")
    handler = Recorder()
    await start_server(handler)
    await wait_until(lambda: r.hget(keys.task_key(Q, damaged), "state") == b"archived")
    await wait_until(lambda: handler.ran == [healthy])
    assert active_and_leased(r) == (0, 0)
    assert r.zscore(keys.archived_key(Q), damaged) is not None
    msg = decode_message(r.hget(keys.task_key(Q, damaged), "msg"))
    assert (msg.id, msg.queue) == (damaged, Q)
    assert msg.error_msg.startswith("asynq: damaged task data: ")
    assert r.hget(keys.task_key(Q, damaged), "damaged_msg") == original
    # Go's Inspector reads it as an archived task with that error, and can delete it.
    info = go_json("srv_inspect", redis_url, "task", Q, damaged)
    assert (info["state"], info["last_err"]) == ("archived", msg.error_msg)
    with asynq.Inspector(redis_url) as insp:
        insp.delete_task(Q, damaged)
    assert not r.exists(keys.task_key(Q, damaged))


@pytest.mark.parametrize("how", ["missing", "a string"])
async def test_a_pending_id_that_names_no_task_is_taken_off_active(
    start_server: Any, client: asynq.Client, r: redis.Redis, how: str
) -> None:
    tid = client.enqueue(asynq.Task("t")).id
    key = keys.task_key(Q, tid)
    r.delete(key)
    if how == "a string":
        r.set(key, "foreign")
    healthy = client.enqueue(asynq.Task("t")).id
    handler = Recorder()
    await start_server(handler)
    await wait_until(lambda: handler.ran == [healthy])
    await wait_until(lambda: active_and_leased(r) == (0, 0))
    assert r.llen(keys.pending_key(Q)) == 0
    assert r.get(key) == (b"foreign" if how == "a string" else None)  # left as it was


@pytest.mark.interop
@pytest.mark.parametrize(
    ("how", "names"),
    [("another id", "task 'other-id' in queue 'default'"), ("another queue", "in queue 'q2'"),
     ("empty", "task '' in queue ''")],
)  # fmt: skip
async def test_a_message_contradicting_its_key_is_archived_under_its_key_without_running(
    start_server: Any, client: asynq.Client, r: redis.Redis, redis_url: str, how: str, names: str
) -> None:
    tid = client.enqueue(asynq.Task("t", b"payload")).id
    key = keys.task_key(Q, tid)
    msg = decode_message(r.hget(key, "msg"))
    if how == "another id":
        msg.id = "other-id"
    elif how == "another queue":
        msg.queue = "q2"
    r.hset(key, "msg", b"" if how == "empty" else encode_message(msg))
    handler = Recorder()
    await start_server(handler)
    await wait_until(lambda: r.hget(key, "state") == b"archived")
    assert handler.ran == [] and active_and_leased(r) == (0, 0)
    archived = decode_message(r.hget(key, "msg"))
    assert (archived.id, archived.queue) == (tid, Q)
    assert names in archived.error_msg
    if how != "empty":  # the rest of the message is kept: running it again from the archive works
        assert (archived.type, archived.payload) == ("t", b"payload")
    info = go_json("srv_inspect", redis_url, "task", Q, tid)
    assert (info["id"], info["state"]) == (tid, "archived")


async def test_the_recoverer_archives_a_damaged_task_whose_lease_expired(
    client: asynq.Client, r: redis.Redis, redis_url: str
) -> None:
    tid = client.enqueue(asynq.Task("t")).id
    r.lrem(keys.pending_key(Q), 0, tid)
    r.lpush(keys.active_key(Q), tid)
    r.zadd(keys.lease_key(Q), {tid: int(time.time()) - 120})
    r.hset(keys.task_key(Q, tid), mapping={"state": "active", "msg": b"\xffjunk"})
    driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    try:
        await make_recoverer(driver).recover_once()
    finally:
        await driver.close()
    assert r.hget(keys.task_key(Q, tid), "state") == b"archived"
    assert active_and_leased(r) == (0, 0)


# -- a handler cannot stop the worker -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["async", "def"])
@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt()])
async def test_a_handler_raising_systemexit_or_keyboardinterrupt_fails_only_its_task(
    start_server: Any, client: asynq.Client, r: redis.Redis, kind: str, raised: BaseException
) -> None:
    ran: list[str] = []

    def work(task: ActiveTask) -> None:
        if task.type == "exit":
            raise raised
        ran.append(task.id)

    async def async_work(task: ActiveTask) -> None:
        work(task)

    poison = client.enqueue(asynq.Task("exit"), max_retry=0).id
    await start_server(async_work if kind == "async" else work)
    key = keys.task_key(Q, poison)
    await wait_until(lambda: r.hget(key, "state") == b"archived")
    expected = "SystemExit: 3" if isinstance(raised, SystemExit) else "KeyboardInterrupt"
    assert decode_message(r.hget(key, "msg")).error_msg == expected
    after = client.enqueue(asynq.Task("t")).id  # the worker still works
    await wait_until(lambda: ran == [after])


# -- background components survive bad values ---------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"queues": {Q: 2**40}}, "priority of queue 'default' must be at most 2147483647"),
        ({"concurrency": 2**31}, "concurrency must be at most 2147483647"),
        ({"janitor_batch_size": 2**31}, "janitor_batch_size must be at most 2147483647"),
        ({"task_check_interval": 1e300}, "task_check_interval must be between 0 and 9223372036"),
    ],
)
def test_config_values_go_cannot_store_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(asynq.ValidationError, match=message):
        Config(**config)


async def test_a_failing_retry_delay_func_does_not_stop_the_recoverer(
    client: asynq.Client, r: redis.Redis, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [client.enqueue(asynq.Task("t")).id for _ in range(2)]
    for tid in ids:
        r.lrem(keys.pending_key(Q), 0, tid)
        r.lpush(keys.active_key(Q), tid)
        r.zadd(keys.lease_key(Q), {tid: int(time.time()) - 120})

    def refuse(n: int, exc: BaseException, task: Any) -> float:
        raise RuntimeError("no delay for you")

    driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    try:
        await make_recoverer(driver, retry_delay_func=refuse).recover_once()
    finally:
        await driver.close()
    assert [r.hget(keys.task_key(Q, tid), "state") for tid in ids] == [b"retry", b"retry"]
    assert "retry_delay_func failed; using the default delay" in caplog.text


async def test_one_undecodable_member_does_not_block_its_group(
    client: asynq.Client, r: redis.Redis, redis_url: str
) -> None:
    ids = [client.enqueue(asynq.Task("t", f"{i}".encode()), group="g").id for i in range(3)]
    r.hset(keys.task_key(Q, ids[1]), "msg", b"\xffjunk")
    seen: list[list[bytes]] = []

    def aggregate(group: str, tasks: list[asynq.Task]) -> asynq.Task:
        seen.append([t.payload for t in tasks])
        return asynq.Task("batch")

    driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    aggregator = Aggregator(
        driver, asynq.SystemClock(), logging.getLogger("test"), queues=[Q], aggregator=aggregate,
        client=asynq.AsyncClient(driver.redis), executor=None, grace_period=1.0, max_delay=0.0,
        max_size=0,
    )  # fmt: skip
    try:
        assert await aggregator.aggregate_once(time.time() + 5) == 1
    finally:
        await driver.close()
    assert [sorted(payloads) for payloads in seen] == [[b"0", b"2"]]
    assert r.llen(keys.pending_key(Q)) == 1  # the aggregated task


# -- bulk archive never leaves a task in two states ---------------------------------------------


def test_archive_all_pending_skips_a_task_key_of_the_wrong_type(
    client: asynq.Client, r: redis.Redis, redis_url: str
) -> None:
    ids = [client.enqueue(asynq.Task("t")).id for _ in range(4)]
    r.delete(keys.task_key(Q, ids[2]))
    r.set(keys.task_key(Q, ids[2]), "foreign")
    with asynq.Inspector(redis_url) as insp:
        assert insp.archive_all_pending_tasks(Q) == 3
    assert r.lrange(keys.pending_key(Q), 0, -1) == [ids[2].encode()]
    archived = {m.decode() for m in r.zrange(keys.archived_key(Q), 0, -1)}
    assert archived == {ids[0], ids[1], ids[3]}
    for tid in archived:
        assert r.hget(keys.task_key(Q, tid), "state") == b"archived"


async def test_an_error_handler_raising_systemexit_does_not_stop_the_worker(
    start_server: Any, client: asynq.Client, r: redis.Redis
) -> None:
    def exit_on_error(task: ActiveTask, exc: BaseException) -> None:
        raise SystemExit(1)

    async def handler(task: ActiveTask) -> None:
        if task.type == "fail":
            raise RuntimeError("boom")

    failing = client.enqueue(asynq.Task("fail"), max_retry=0).id
    await start_server(handler, error_handler=exit_on_error)
    await wait_until(lambda: r.hget(keys.task_key(Q, failing), "state") == b"archived")
    after = client.enqueue(asynq.Task("t")).id
    await wait_until(lambda: not r.exists(keys.task_key(Q, after)))  # done and deleted


async def test_the_heartbeat_extends_leases_even_when_the_server_state_cannot_be_built(
    start_server: Any,
    client: asynq.Client,
    r: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_state(self: heartbeat.Heartbeat) -> Any:
        raise ValueError("a value the server state cannot hold")

    monkeypatch.setattr(heartbeat, "HEARTBEAT_INTERVAL", 0.2)
    monkeypatch.setattr(heartbeat.Heartbeat, "server_info", broken_state)
    release = asyncio.Event()

    async def hold(task: ActiveTask) -> None:
        await release.wait()

    tid = client.enqueue(asynq.Task("t")).id
    await start_server(hold)
    await wait_until(lambda: r.zscore(keys.lease_key(Q), tid) is not None)
    first = r.zscore(keys.lease_key(Q), tid)
    await wait_until(lambda: (r.zscore(keys.lease_key(Q), tid) or 0) > first, within=5)
    assert "Failed to build the server state data" in caplog.text
    release.set()
    await wait_until(lambda: not r.exists(keys.task_key(Q, tid)))
