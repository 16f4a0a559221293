"""The Python worker server next to real Go asynq v0.26.0 programs (tests/go/cmd/srv_*)."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
import redis.asyncio

import asynq
from asynq._base import keys
from asynq._base.codec import decode_message
from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq.progress import TaskUpdate, watch_task
from asynq.server import ActiveTask
from tests.helpers.waiting import wait_until
from tests.server.conftest import make_recoverer, read_msg, state
from tests.server.gohelpers import go_enqueue, go_events, go_json, wait_started

pytestmark = pytest.mark.interop
Q = "default"


async def test_go_client_tasks_reach_every_outcome(start_server, r, redis_url):
    async def handler(task: ActiveTask) -> None:
        if task.type == "ok:result":
            await task.result_writer.write_async(b"from python")
        elif task.type == "fail":
            raise RuntimeError("python failed")
        elif task.type == "skip":
            raise asynq.SkipRetry("bad")
        elif task.type == "revoke":
            raise asynq.RevokeTask()

    ok, result, fail, skip, revoke = go_enqueue(
        redis_url,
        [
            {"type": "ok", "payload": b"1"},
            {"type": "ok:result", "payload": b"2", "options": {"retention": 600}},
            {"type": "fail", "payload": b"3", "options": {"max_retry": 2}},
            {"type": "skip", "payload": None},
            {"type": "revoke", "payload": b"5", "options": {"unique": 600}},
        ],
    )
    await start_server(handler, retry_delay_func=lambda *a: 120)
    await wait_until(lambda: not r.exists(keys.task_key(Q, ok)))
    await wait_until(lambda: state(r, Q, result) == "completed")
    await wait_until(lambda: state(r, Q, fail) == "retry")
    await wait_until(lambda: state(r, Q, skip) == "archived")
    await wait_until(lambda: not r.exists(keys.task_key(Q, revoke)))

    info = go_json("srv_inspect", redis_url, "task", Q, result)
    assert (info["state"], base64.b64decode(info["result"])) == ("completed", b"from python")
    assert info["completed_at"] is not None and info["retention"] == 600
    info = go_json("srv_inspect", redis_url, "task", Q, fail)
    assert (info["state"], info["retried"], info["last_err"]) == ("retry", 1, "python failed")
    assert info["next_process_at"] - time.time() > 100
    info = go_json("srv_inspect", redis_url, "task", Q, skip)
    assert (info["state"], info["last_err"]) == ("archived", "bad: skip retry for the task")
    assert not r.exists(keys.unique_key(Q, "revoke", b"5"))
    assert r.get(keys.processed_total_key(Q)) == b"5"
    assert r.get(keys.failed_total_key(Q)) == b"2"


async def test_python_and_go_servers_share_a_queue(start_server, go_server, client, r, redis_url):
    n = 300
    go = go_server("-concurrency", "4")
    await wait_started(go)
    py_done: list[str] = []

    async def handler(task: ActiveTask) -> None:
        py_done.append(task.id)
        await asyncio.sleep(0.002)

    await start_server(handler, concurrency=4)
    half = [client.enqueue(asynq.Task("ok", f"{i}".encode())).id for i in range(n // 2)]
    rest = go_enqueue(redis_url, [{"type": "ok", "payload": b"%d" % i} for i in range(n // 2)])
    ids = set(half) | set(rest)

    def all_done() -> bool:
        return len(py_done) + len(go_events(go)) >= n

    await wait_until(all_done, within=30)
    go_done = [e["id"] for e in go_events(go)]
    assert len(py_done) + len(go_done) == n  # nothing ran twice
    assert set(py_done) | set(go_done) == ids  # nothing lost
    assert py_done and go_done  # both took part
    await wait_until(lambda: r.get(keys.processed_total_key(Q)) == str(n).encode())
    assert r.llen(keys.pending_key(Q)) == 0 and r.llen(keys.active_key(Q)) == 0


async def test_go_inspector_lists_python_server_and_workers(start_server, client, redis_url):
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(30)

    server = await start_server(handler, concurrency=7, queues={"critical": 4, "default": 2})
    info = client.enqueue(asynq.Task("long", b"payload"), queue="critical", timeout=300)
    await asyncio.wait_for(started.wait(), 5)
    await server._parts.heartbeat.beat()
    (srv,) = go_json("srv_inspect", redis_url, "servers")
    assert srv["id"] == server.server_id
    assert (srv["concurrency"], srv["queues"], srv["status"]) == (
        7,
        {"critical": 4, "default": 2},
        "active",
    )
    (worker,) = srv["workers"]
    assert (worker["task_id"], worker["task_type"], worker["queue"]) == (
        info.id,
        "long",
        "critical",
    )
    assert base64.b64decode(worker["payload"]) == b"payload"
    assert 295 <= worker["deadline"] - worker["started"] <= 301


async def test_go_cancel_processing_cancels_python_task(start_server, client, r, redis_url):
    started = asyncio.Event()

    async def handler(task: ActiveTask) -> None:
        started.set()
        await asyncio.sleep(30)

    await start_server(handler, retry_delay_func=lambda *a: 60)
    info = client.enqueue(asynq.Task("long", b""))
    await asyncio.wait_for(started.wait(), 5)
    go_json("srv_inspect", redis_url, "cancel", info.id)
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    assert read_msg(r, Q, info.id).error_msg == "context canceled"


async def test_python_server_processes_go_outcomes(go_server, client, r):
    """Tasks enqueued by Python reach a Go server, which records each outcome as usual."""
    go = go_server("-retry-delay", "100")
    await wait_started(go)
    ok = client.enqueue(asynq.Task("ok", b"")).id
    fail = client.enqueue(asynq.Task("fail", b""), max_retry=3).id
    await wait_until(lambda: len(go_events(go)) == 2)
    await wait_until(lambda: state(r, Q, fail) == "retry")
    assert not r.exists(keys.task_key(Q, ok))
    assert read_msg(r, Q, fail).error_msg == "go handler failed"


async def test_go_recoverer_recovers_task_abandoned_by_python(go_server, client, r, redis_url):
    info = client.enqueue(asynq.Task("orphan", b""))
    driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    (taken,) = await driver.run(server_ops.dequeue(Q, 1, time.time()))
    data = taken.data
    await driver.close()
    assert decode_message(data).id == info.id
    # The Python worker died; its lease expired a minute ago.
    r.zadd(keys.lease_key(Q), {info.id: int(time.time()) - 60})
    go = go_server()  # Go's recoverer runs at start
    await wait_started(go)
    await wait_until(lambda: state(r, Q, info.id) == "retry")
    msg = read_msg(r, Q, info.id)
    assert (msg.error_msg, msg.retried) == ("asynq: task lease expired", 1)


async def test_python_recoverer_recovers_task_abandoned_by_go(go_server, client, r, redis_url):
    go = go_server("-concurrency", "1")
    await wait_started(go)
    info = client.enqueue(asynq.Task("sleep", b"30"))
    await wait_until(lambda: state(r, Q, info.id) == "active")
    go.kill()
    go.wait()
    r.zadd(keys.lease_key(Q), {info.id: int(time.time()) - 60})
    driver = AsyncDriver(redis.asyncio.Redis.from_url(redis_url))
    await make_recoverer(driver).recover_once()
    await driver.close()
    assert state(r, Q, info.id) == "retry"
    info_go = go_json("srv_inspect", redis_url, "task", Q, info.id)
    assert (info_go["state"], info_go["last_err"]) == ("retry", "asynq: task lease expired")


async def test_a_watch_sees_a_go_server_finish_the_task_by_looking(go_server, client, r, redis_url):
    """A Go worker appends nothing to the progress stream: the watch falls back on looking at
    the task's state after ``check_interval``, and the stream holds only what the watch wrote."""
    info = client.enqueue(asynq.Task("ok", b""), retention=600)
    stream = keys.progress_key(Q, info.id)
    updates = watch_task(redis_url, Q, info.id, check_interval=0.2)
    assert (await anext(updates)).state == "pending"

    async def rest() -> list[TaskUpdate]:
        return [update async for update in updates]

    follower = asyncio.create_task(rest())
    await wait_until(lambda: r.exists(stream))
    await wait_started(go_server())
    seen = await asyncio.wait_for(follower, timeout=20)
    assert (seen[-1].state, seen[-1].final) == ("completed", True)
    assert [fields for _, fields in r.xrange(stream)] == [{b"watching": b"1"}]
