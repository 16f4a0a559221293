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
from opentelemetry import trace

import asynq
from asynq import Task
from asynq._broker.calls import Command, Op
from asynq._broker.drivers import AsyncDriver
from asynq.errors import BrokerError, TaskIDConflictError
from tests.helpers.repeatable import counted_task_ids, redis_state

PENDING = "asynq:{default}:pending"


class Recorder:
    """Wraps a coalescer's exchange: records how many calls each write carried, and can hold
    the next write until its gate is set. A ``Client``'s calls are coalesced in the fast
    lane (packed calls); an ``AsyncClient``'s enqueues before they are composed (the leader
    composes the batch), so the async recorder counts enqueues."""

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

    async def async_exchange(self, batch: list[Any]) -> Any:
        self.counts.append(len(batch))
        gate, self.gate = self.gate, None
        if gate is not None:
            await gate.wait()
        return await self.original(batch)


def _record(client: Any, flavor: str) -> Recorder:
    if flavor == "sync":
        lane = client._driver._lane
        assert lane is not None
        recorder = Recorder(lane._coalescer, flavor)
        lane._coalescer._exchange = recorder.sync_exchange
    else:
        coalescer = client._enqueuer._coalescer
        assert coalescer is not None
        recorder = Recorder(coalescer, flavor)
        coalescer._exchange = recorder.async_exchange
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


async def _queued_behind_a_held_leader(
    client: asynq.AsyncClient, followers: int
) -> tuple[Recorder, Any, asyncio.Task[asynq.TaskInfo], list[asyncio.Task[asynq.TaskInfo]]]:
    """A recorder, the gate holding the write of ``leader``, the leader's enqueue task, and
    the enqueue tasks of ``followers`` callers queued behind it (ids ``f0``, ``f1``...)."""
    recorder = _record(client, "async")
    gate = recorder.hold_next()
    leader = asyncio.create_task(client.enqueue(Task("leader"), task_id="leader"))
    queued = [
        asyncio.create_task(client.enqueue(Task("f"), task_id=f"f{i}")) for i in range(followers)
    ]
    await asyncio.sleep(0.01)
    return recorder, gate, leader, queued


async def test_cancelled_before_its_write_leaves_no_task(
    aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    recorder, gate, leader, followers = await _queued_behind_a_held_leader(aclient, 3)
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


NOW = 1_700_000_000.25

#: Enqueues of every kind, with refusals in the middle: a taken task id, a unique lock held by
#: an earlier call of the same batch, an invalid option.
MIXED: list[tuple[Task, dict[str, Any]]] = [
    (Task("plain", b"p1"), {}),
    (Task("opts", b"x", max_retry=3), {"queue": "critical", "timeout": 60, "retention": 3600}),
    (Task("later", b"s"), {"process_in": 120}),
    (Task("uniq", b"u"), {"unique": 300}),
    (Task("uniq-later", b"u"), {"unique": 300, "process_in": 600}),
    (Task("grp", b"g"), {"group": "g1"}),
    (Task("grp", b"g"), {"group": "g1", "unique": 100}),
    (Task("id", b"d"), {"task_id": "fixed-id"}),
    (Task("id", b"d"), {"task_id": "fixed-id"}),
    (Task("uniq", b"u"), {"unique": 300}),
    (Task("bad", b"b"), {"queue": "{bad}"}),
    (Task("headers", b"h", headers={"k": "v"}), {"deadline": NOW + 7200}),
    (Task("plain", b"p2"), {}),
    (Task("plain", b"p3"), {"queue": "critical"}),
]


@pytest.fixture
def counted_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    return counted_task_ids(monkeypatch)


def _outcome(result: Any) -> Any:
    return type(result).__name__ if isinstance(result, BaseException) else result


async def test_a_composed_batch_writes_what_single_enqueues_write(
    redis_url: str, r: redis.Redis, counted_ids: Callable[[], None]
) -> None:
    async def one(client: asynq.AsyncClient, task: Task, opts: dict[str, Any]) -> Any:
        try:
            return await client.enqueue(task, **opts)
        except Exception as exc:
            return exc

    async with asynq.AsyncClient(redis_url, clock=asynq.FakeClock(NOW)) as client:
        await client.enqueue(Task("warm-up"))
        alone = [_outcome(await one(client, task, opts)) for task, opts in MIXED]
    alone_state = redis_state(r)
    r.flushdb()
    counted_ids()

    async with asynq.AsyncClient(redis_url, clock=asynq.FakeClock(NOW)) as client:
        recorder = _record(client, "async")
        gate = recorder.hold_next()
        first = asyncio.create_task(client.enqueue(Task("warm-up")))
        await asyncio.sleep(0)
        calls = [asyncio.create_task(one(client, task, opts)) for task, opts in MIXED]
        await asyncio.sleep(0.01)
        assert recorder.coalescer.waiting == len(MIXED)  # queued behind the held warm-up
        gate.set()
        await first
        together = [_outcome(result) for result in await asyncio.gather(*calls)]
    assert recorder.counts == [1, len(MIXED)]  # the warm-up alone, then one composed batch

    assert together == alone
    refused = {i: name for i, name in enumerate(together) if isinstance(name, str)}
    assert refused == {8: "TaskIDConflictError", 9: "DuplicateTaskError", 10: "ValidationError"}
    together_state = redis_state(r)
    assert together_state.keys() == alone_state.keys()
    for key, (kind, dumped, ttl) in together_state.items():
        assert (kind, dumped) == alone_state[key][:2], key
        assert abs(ttl - alone_state[key][2]) <= 1, key


async def test_callers_woken_by_a_batch_go_out_together_next(aclient: asynq.AsyncClient) -> None:
    recorder = _record(aclient, "async")

    async def caller(i: int) -> None:
        for _ in range(4):
            await aclient.enqueue(Task("t", bytes([i])))

    await asyncio.gather(*(caller(i) for i in range(8)))
    # The first went alone and the others queued behind it; from then on, whoever found
    # nobody sending let the callers just woken call again and join it.
    assert recorder.counts == [1, 8, 8, 8, 7]


async def test_a_lone_caller_sends_before_anything_else_runs(aclient: asynq.AsyncClient) -> None:
    coalescer = aclient._enqueuer._coalescer
    assert coalescer is not None
    original = coalescer._exchange
    ran: list[str] = []
    seen: list[list[str]] = []

    async def exchange(batch: list[Any]) -> Any:
        seen.append(list(ran))
        return await original(batch)

    coalescer._exchange = exchange
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(aclient.enqueue(Task("t")) for _ in range(3)))  # a batch came back
    ran.clear()
    seen.clear()
    loop.call_soon(ran.append, "other")
    await aclient.enqueue(Task("regrouping"))  # the woken callers get one pass of the loop
    loop.call_soon(ran.append, "other")
    await aclient.enqueue(Task("lone"))  # nobody was woken: it sends before anything runs
    assert seen == [["other"], ["other"]]
    ran.clear()
    seen.clear()
    loop.call_soon(ran.append, "other")
    await aclient.enqueue(Task("lone again"))
    assert seen == [[]]


async def test_a_regrouping_caller_cancelled_sends_nothing(
    aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    recorder = _record(aclient, "async")
    await asyncio.gather(*(aclient.enqueue(Task("t")) for _ in range(3)))
    r.delete(PENDING)
    regrouping = asyncio.create_task(aclient.enqueue(Task("a"), task_id="a"))
    await asyncio.sleep(0)  # it found nobody sending and lets the woken callers run first
    other = asyncio.create_task(aclient.enqueue(Task("b"), task_id="b"))
    regrouping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await regrouping
    assert (await other).id == "b"
    assert recorder.counts[-1] == 1
    assert _pending(r) == ["b"]


async def test_a_caller_cancelled_once_its_batch_is_out_was_still_enqueued(
    aclient: asynq.AsyncClient, r: redis.Redis
) -> None:
    recorder, gate, leader, followers = await _queued_behind_a_held_leader(aclient, 2)
    next_gate = recorder.hold_next()
    gate.set()
    await leader
    await asyncio.sleep(0.01)
    assert recorder.counts == [1, 2]  # f0 leads the next batch, held before its write
    r.execute_command("CLIENT", "PAUSE", "500", "WRITE")  # Redis holds the scripts' replies
    next_gate.set()
    await asyncio.sleep(0.05)  # the batch is written; its replies are pending
    followers[1].cancel()  # like a request whose client went away: the enqueue is out
    done = await asyncio.gather(*followers, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert isinstance(done[0], asynq.TaskInfo)
    assert _pending(r) == ["leader", "f0", "f1"]


async def test_async_lane_coalesces_other_calls_and_keeps_their_errors(
    redis_url: str, r: redis.Redis
) -> None:
    """What the server and the inspectors send: concurrent calls on one asyncio driver share
    writes in the lane, each call keeping its reply or error and each caller its order."""
    r.set("coalesce:string", "x")
    connection = redis.asyncio.Redis.from_url(redis_url)
    driver = AsyncDriver(connection)
    lane = driver._lane
    assert lane is not None
    original = lane._coalescer._exchange
    counts: list[int] = []

    async def exchange(batch: list[Any]) -> Any:
        counts.append(sum(count for _, count, _ in batch))
        return await original(batch)

    lane._coalescer._exchange = exchange

    def push(key: str, value: str) -> Op[Any]:
        reply = yield Command(("RPUSH", key, value))
        return reply

    async def caller(i: int) -> list[Any]:
        outcomes = []
        for n in range(10):
            key = "coalesce:string" if (i, n) == (3, 5) else f"coalesce:{i}"
            try:
                outcomes.append(await driver.run(push(key, str(n))))
            except BrokerError as exc:
                outcomes.append(exc)
        return outcomes

    try:
        results = await asyncio.gather(*(caller(i) for i in range(16)))
    finally:
        await driver.close()
    assert sum(counts) == 160 and max(counts) > 1 and len(counts) < 160
    for i, outcomes in enumerate(results):
        expected = [n + 1 - (i == 3 and n > 5) for n in range(10)]
        if i == 3:
            assert isinstance(outcomes[5], BrokerError) and "WRONGTYPE" in str(outcomes[5])
            del outcomes[5], expected[5]
        assert outcomes == expected
        assert r.lrange(f"coalesce:{i}", 0, -1) == [
            str(n).encode() for n in range(10) if (i, n) != (3, 5)
        ]


async def test_each_caller_of_a_batch_keeps_its_own_trace_context(
    aclient: asynq.AsyncClient,
) -> None:
    """The leader composes the batch in its own task; each task still carries the trace
    context of the code that enqueued it."""
    recorder = _record(aclient, "async")
    gate = recorder.hold_next()
    leader = asyncio.create_task(aclient.enqueue(Task("untraced")))
    await asyncio.sleep(0)

    async def traced(n: int) -> asynq.TaskInfo:
        context = trace.SpanContext(
            trace_id=n, span_id=n, is_remote=False, trace_flags=trace.TraceFlags(1)
        )
        with trace.use_span(trace.NonRecordingSpan(context)):
            return await aclient.enqueue(Task("traced"))

    calls = [asyncio.create_task(traced(n)) for n in (1, 2)]
    untraced = asyncio.create_task(aclient.enqueue(Task("untraced")))
    await asyncio.sleep(0.01)
    gate.set()
    infos = [await leader, *await asyncio.gather(*calls), await untraced]
    assert recorder.counts == [1, 3]
    parents = [info.headers.get("traceparent") for info in infos]
    assert parents == [
        None,
        f"00-{1:032x}-{1:016x}-01",
        f"00-{2:032x}-{2:016x}-01",
        None,
    ]
