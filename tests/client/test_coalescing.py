"""Enqueues issued concurrently on one client share pipelined writes (``asynq._broker.lane``).

A lone caller sends at once, alone; callers arriving while a write is out queue behind it and go
out together in the next write. Each keeps its own result and error, and a caller's tasks land
in the order it issued them. Batches are made deterministic here by holding the first write
(the real one, to the real Redis) until the followers have queued.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio.retry
import redis.backoff

import asynq
from asynq import Task
from asynq._broker.calls import Command
from asynq.errors import BrokerError, TaskIDConflictError

PENDING = "asynq:{default}:pending"


class Recorder:
    """Wraps a lane coalescer's exchange: records how many calls each write carried, and can
    hold the next write until ``release``."""

    def __init__(self, coalescer: Any, flavor: str) -> None:
        self.coalescer = coalescer
        self.original = coalescer._exchange
        self.counts: list[int] = []
        self.flavor = flavor
        self.gate: Any = None

    def hold_next(self) -> Any:
        """A ``threading.Event`` (sync) or ``asyncio.Event`` whose ``set`` lets the next
        write go."""
        self.gate = threading.Event() if self.flavor == "sync" else asyncio.Event()
        return self.gate

    def sync_exchange(self, parts: Any, count: int, first: Callable[[], None]) -> Any:
        self.counts.append(count)
        gate, self.gate = self.gate, None
        if gate is not None:
            assert gate.wait(10)
        return self.original(parts, count, first)

    async def async_exchange(self, parts: Any, count: int, first: Callable[[], None]) -> Any:
        self.counts.append(count)
        gate, self.gate = self.gate, None
        if gate is not None:
            await gate.wait()
        return await self.original(parts, count, first)


def _record(client: Any, flavor: str) -> Recorder:
    lane = client._driver._lane
    assert lane is not None
    recorder = Recorder(lane._coalescer, flavor)
    exchange = recorder.sync_exchange if flavor == "sync" else recorder.async_exchange
    lane._coalescer._exchange = exchange
    return recorder


@pytest.fixture
def client(redis_url: str) -> Iterator[asynq.Client]:
    with asynq.Client(redis_url) as c:
        c.enqueue(Task("warm-up"))  # queue registered, script loaded: one call per enqueue
        yield c


@pytest.fixture
async def aclient(redis_url: str, r: redis.Redis) -> AsyncIterator[asynq.AsyncClient]:
    """An AsyncClient past its first enqueue, with no task pending."""
    async with asynq.AsyncClient(redis_url) as c:
        await c.enqueue(Task("warm-up"))
        r.delete(PENDING)
        yield c


def _pending(r: redis.Redis) -> list[str]:
    """Pending task ids, oldest first (enqueue LPUSHes)."""
    return [p.decode() for p in reversed(r.lrange(PENDING, 0, -1))]


def _wait_until(condition: Callable[[], bool]) -> None:
    event = threading.Event()
    for _ in range(10_000):
        if condition():
            return
        event.wait(0.001)
    raise AssertionError("condition never held")


def test_lone_caller_sends_each_enqueue_alone_and_at_once(client: asynq.Client) -> None:
    recorder = _record(client, "sync")
    for i in range(5):
        client.enqueue(Task("t", bytes([i])))
        # Returned: its write went out without waiting for anyone.
        assert recorder.counts == [1] * (i + 1)


async def test_lone_coroutine_sends_each_enqueue_alone(aclient: asynq.AsyncClient) -> None:
    recorder = _record(aclient, "async")
    for _ in range(5):
        await aclient.enqueue(Task("t"))
    assert recorder.counts == [1] * 5


def _in_threads(n: int, work: Callable[[int], Any]) -> tuple[list[threading.Thread], list[Any]]:
    """Run ``work(i)`` in ``n`` threads; their results (or exceptions), by ``i``."""
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def test_threads_queued_behind_a_write_go_out_together(
    client: asynq.Client, r: redis.Redis
) -> None:
    recorder = _record(client, "sync")
    gate = recorder.hold_next()
    leader = threading.Thread(target=client.enqueue, args=(Task("leader"),))
    leader.start()
    _wait_until(lambda: recorder.counts == [1])
    threads, results = _in_threads(7, lambda i: client.enqueue(Task("f", bytes([i]))))
    _wait_until(lambda: recorder.coalescer.waiting == 7)
    gate.set()
    for t in [leader, *threads]:
        t.join(10)
    assert recorder.counts == [1, 7]
    assert all(isinstance(info, asynq.TaskInfo) for info in results)
    assert [info.payload for info in results] == [bytes([i]) for i in range(7)]
    assert set(_pending(r)) >= {info.id for info in results}


def test_errors_stay_with_their_own_task(client: asynq.Client, r: redis.Redis) -> None:
    client.enqueue(Task("taken"), task_id="taken")
    recorder = _record(client, "sync")
    gate = recorder.hold_next()
    leader = threading.Thread(target=client.enqueue, args=(Task("leader"),))
    leader.start()
    _wait_until(lambda: recorder.counts == [1])

    def work(i: int) -> Any:
        return client.enqueue(Task("f", bytes([i])), task_id="taken" if i % 2 else f"free-{i}")

    threads, results = _in_threads(6, work)
    _wait_until(lambda: recorder.coalescer.waiting == 6)
    gate.set()
    for t in [leader, *threads]:
        t.join(10)
    assert recorder.counts == [1, 6]
    for i, result in enumerate(results):
        if i % 2:
            assert isinstance(result, TaskIDConflictError)
        else:
            assert isinstance(result, asynq.TaskInfo) and result.id == f"free-{i}"
    assert {f"free-{i}" for i in (0, 2, 4)} <= set(_pending(r))


def test_each_thread_keeps_its_order(client: asynq.Client, r: redis.Redis) -> None:
    r.delete(PENDING)
    per_thread = 50
    threads, results = _in_threads(
        8, lambda i: [client.enqueue(Task("t", bytes([i]))).id for _ in range(per_thread)]
    )
    for t in threads:
        t.join(30)
    pending = _pending(r)
    for ids in results:
        assert isinstance(ids, list) and len(ids) == per_thread
        assert [tid for tid in pending if tid in set(ids)] == ids
    assert len(pending) == 8 * per_thread


def test_forked_child_enqueues_while_a_parent_thread_leads(
    client: asynq.Client, r: redis.Redis
) -> None:
    recorder = _record(client, "sync")
    gate = recorder.hold_next()
    leader = threading.Thread(target=client.enqueue, args=(Task("parent"),))
    leader.start()
    _wait_until(lambda: recorder.counts == [1])  # the parent's leader is mid-write
    pid = os.fork()
    if pid == 0:  # child: no leader exists here, so this call must lead, not wait forever
        code = 1
        signal.alarm(20)  # a child stuck waiting for the parent's leader dies and fails the test
        try:
            client.enqueue(Task("child"), task_id="child")
            code = 0
        finally:
            os._exit(code)
    gate.set()
    leader.join(10)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "child" in _pending(r)


async def test_coroutines_coalesce_and_keep_their_order(
    aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    recorder = _record(aclient, "async")

    async def caller(i: int) -> list[str]:
        return [(await aclient.enqueue(Task("t", bytes([i])))).id for _ in range(20)]

    results = await asyncio.gather(*(caller(i) for i in range(64)))
    pending = _pending(r)
    assert len(pending) == 64 * 20
    for ids in results:
        assert [tid for tid in pending if tid in set(ids)] == ids
    # 1,280 enqueues in far fewer writes: the ones issued while a write was out rode together.
    assert sum(recorder.counts) == 64 * 20
    assert len(recorder.counts) < 64 * 20 // 8
    assert max(recorder.counts) > 1


async def test_coroutine_errors_stay_with_their_own_task(redis_url: str, r: redis.Redis) -> None:
    async with asynq.AsyncClient(redis_url) as client:
        await client.enqueue(Task("taken"), task_id="taken")
        recorder = _record(client, "async")
        outcomes = await asyncio.gather(
            *(
                client.enqueue(Task("t"), task_id="taken" if i % 2 else f"free-{i}")
                for i in range(8)
            ),
            return_exceptions=True,
        )
    assert recorder.counts == [1, 7]  # the first went alone, the others queued behind it
    for i, outcome in enumerate(outcomes):
        if i % 2:
            assert isinstance(outcome, TaskIDConflictError)
        else:
            assert isinstance(outcome, asynq.TaskInfo) and outcome.id == f"free-{i}"


async def test_cancelled_before_its_write_leaves_no_task(
    aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    recorder = _record(aclient, "async")
    gate = recorder.hold_next()
    leader = asyncio.create_task(aclient.enqueue(Task("leader"), task_id="leader"))
    followers = [asyncio.create_task(aclient.enqueue(Task("f"), task_id=f"f{i}")) for i in range(3)]
    await asyncio.sleep(0.01)
    followers[1].cancel()
    gate.set()
    await leader
    done = await asyncio.gather(*followers, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert recorder.counts == [1, 2]
    assert _pending(r) == ["leader", "f0", "f2"]


async def test_interrupted_leader_fails_its_batch_and_the_client_recovers(
    aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    client = aclient
    recorder = _record(client, "async")
    first_gate = recorder.hold_next()
    first = asyncio.create_task(client.enqueue(Task("first"), task_id="first"))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(client.enqueue(Task("second"), task_id="second"))
    third = asyncio.create_task(client.enqueue(Task("third"), task_id="third"))
    await asyncio.sleep(0.01)
    recorder.hold_next()  # ``second`` leads the next write (with ``third``): hold it
    first_gate.set()
    await first
    await asyncio.sleep(0.01)
    assert recorder.counts == [1, 2]
    second.cancel()
    outcomes = await asyncio.gather(second, third, return_exceptions=True)
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert isinstance(outcomes[1], BrokerError)  # whether it was written is unknown
    after = await client.enqueue(Task("after"), task_id="after")
    assert after.id == "after"
    assert _pending(r) == ["first", "after"]


def test_a_blocking_command_never_holds_up_a_batch(client: asynq.Client, r: redis.Redis) -> None:
    driver = client._driver
    assert not driver._lane.accepts(Command(("BLPOP", "coalesce:list", 0)))

    def pop() -> Any:
        reply = yield Command(("BLPOP", "coalesce:list", 30))
        return reply

    popped: list[Any] = []
    blocked = threading.Thread(target=lambda: popped.append(driver.run(pop())))
    blocked.start()
    _wait_until(lambda: r.info("clients")["blocked_clients"] == 1)
    info = client.enqueue(Task("t"))  # returns while BLPOP still waits on its own connection
    assert blocked.is_alive()
    r.rpush("coalesce:list", info.id)
    blocked.join(10)
    assert [list(reply) for reply in popped] == [[b"coalesce:list", info.id.encode()]]


def test_fast_lane_false_sends_through_redis_py(redis_url: str, r: redis.Redis) -> None:
    with asynq.Client(redis_url, fast_lane=False) as client:
        assert client._driver._lane is None
        info = client.enqueue(Task("t", b"x"))
    assert info.id in _pending(r)


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_env_switch_turns_the_lane_off(
    redis_url: str, r: redis.Redis, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ASYNQ_FAST_LANE", value)
    with asynq.Client(redis_url) as client:
        assert client._driver._lane is None
        info = client.enqueue(Task("t", b"x"))
    assert info.id in _pending(r)
    with asynq.Client(redis_url, fast_lane=True) as explicit:
        assert explicit._driver._lane is not None  # an explicit argument wins


async def test_async_fast_lane_false(redis_url: str, r: redis.Redis) -> None:
    async with asynq.AsyncClient(redis_url, fast_lane=False) as client:
        assert client._driver._lane is None
        infos = await asyncio.gather(*(client.enqueue(Task("t")) for _ in range(10)))
    assert {i.id for i in infos} <= set(_pending(r))


async def test_async_lane_times_out_on_a_silent_redis_then_recovers(
    redis_url: str, r: redis.Redis
) -> None:
    retry = redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0)
    conn = asynq.RedisConnection.from_url(redis_url, retry=retry, socket_timeout=0.3)
    async with asynq.AsyncClient(conn) as client:
        assert client._driver._lane is not None
        await client.enqueue(Task("warm-up"))
        r.execute_command("CLIENT", "PAUSE", "1500", "ALL")  # Redis stops answering
        try:
            with pytest.raises(BrokerError, match="Timeout"):
                await client.enqueue(Task("silent"))
        finally:
            r.execute_command("CLIENT", "UNPAUSE")
        again = await client.enqueue(Task("again"), task_id="again")
        inner = asyncio.create_task(client.enqueue(Task("cancelled")))
        await asyncio.sleep(0)
        inner.cancel()  # a cancel from elsewhere stays a cancel, not a timeout
        with pytest.raises(asyncio.CancelledError):
            await inner
    assert again.id in _pending(r)
