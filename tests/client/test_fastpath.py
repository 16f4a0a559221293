"""The producer fast path gives exactly what the plain path gives.

- The drivers' lane (``asynq._broker.lane.wire``) writes byte-identical Redis state to redis-py's
  ``execute_command``/pipeline path, recovers from SCRIPT FLUSH (NOSCRIPT) and from a Redis
  restart, and is safe across threads and ``fork``.
- The client's shortcuts (``asynq._fastcompose``) equal ``options.compose``,
  ``TaskInfo.from_message`` and ``str(uuid.uuid4())``.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import redis.asyncio

import asynq
from asynq import FakeClock, Task, TaskState
from asynq._broker.calls import Command, Op, Pipeline, ReplyError, Script, Stream
from asynq._broker.drivers import AsyncDriver, SyncDriver
from asynq._broker.lane.wire import AsyncLane, SyncLane
from asynq._fastcompose import (
    IDS_AHEAD,
    ComposeMemo,
    copy_info,
    fresh_info,
    info_base,
    new_task_id,
    new_task_ids,
)
from asynq._options import compose
from asynq._task import TaskInfo
from asynq.client import EnqueueManyError, _ClientCore
from asynq.errors import BrokerError, DuplicateTaskError, TaskIDConflictError
from tests.helpers.redis_procs import RedisProcess
from tests.helpers.repeatable import counted_task_ids, redis_state

NOW = 1_700_000_000.25


class PlainRedis(redis.Redis):
    """A redis.Redis subclass: the drivers give it the plain redis-py path, not the lane."""


class PlainAsyncRedis(redis.asyncio.Redis):
    """The asyncio twin of :class:`PlainRedis`."""


def _lane_of(client: Any) -> Any:
    target = getattr(client, "_target", client)  # through the async SyncFacade
    return target._driver._lane


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Task ids from a counter (see :func:`counted_task_ids`)."""
    return counted_task_ids(monkeypatch)


def _workload(client: Any) -> list[Any]:
    """Every producer write: plain, memo copies, options, scheduled, unique, group, refusals,
    bulk. Returns the TaskInfos and the errors of a partly refused bulk: they must match too."""
    got: list[Any] = [
        client.enqueue(Task("plain", b"p1")),
        client.enqueue(Task("plain", b"p2")),
        client.enqueue(Task("nil-payload")),
        client.enqueue(
            Task("opts", b"x", headers={"h": "v"}, max_retry=3),
            queue="critical",
            timeout=60,
            retention=3600,
            deadline=NOW + 7200,
        ),
        client.enqueue_in(Task("later", b"s"), 120),
        client.enqueue_unique(Task("uniq", b"u"), 300),
        client.enqueue_unique(Task("uniq-later", b"u"), 300, process_in=600),
        client.add_to_group(Task("grp", b"g"), "g1"),
        client.add_to_group(Task("grp", b"g"), "g1", unique=100),
        client.enqueue(Task("id", b"d"), task_id="fixed-id"),
    ]
    with pytest.raises(DuplicateTaskError):
        client.enqueue_unique(Task("uniq", b"u"), 300)
    with pytest.raises(TaskIDConflictError):
        client.enqueue(Task("id", b"d"), task_id="fixed-id")
    got += client.enqueue_many([Task("many", bytes([i])) for i in range(60)], queue="bulk")
    got += client.enqueue_many([Task("h", headers={"k": "v"}), (Task("own"), {"group": "g2"})])
    with pytest.raises(EnqueueManyError) as many:
        client.enqueue_many([Task("m1"), (Task("m2"), {"task_id": "fixed-id"}), Task("m3")])
    return [*got, *many.value.infos, [type(e).__name__ if e else "" for e in many.value.errors]]


def _plain_conn(flavor: str, url: str) -> Any:
    return (PlainRedis if flavor == "sync" else PlainAsyncRedis).from_url(url)


def test_lane_writes_what_the_plain_path_writes(
    make_client: Callable[..., Any],
    flavor: str,
    redis_url: str,
    r: Any,
    fixed_ids: Callable[[], None],
) -> None:
    fast = make_client(redis_url, clock=FakeClock(NOW))
    assert _lane_of(fast) is not None
    fast_outcomes = _workload(fast)
    fast_state = redis_state(r)
    r.flushdb()
    fixed_ids()

    conn = _plain_conn(flavor, redis_url)
    plain = make_client(conn, clock=FakeClock(NOW))
    assert _lane_of(plain) is None
    plain_outcomes = _workload(plain)
    plain_state = redis_state(r)
    # The caller's client stays open when the asynq client closes: close it here.
    if flavor == "sync":
        conn.close()
    else:
        plain.run_on_loop(conn.aclose())

    assert fast_outcomes == plain_outcomes
    assert fast_state.keys() == plain_state.keys()
    for key, (kind, dumped, ttl) in fast_state.items():
        assert (kind, dumped) == plain_state[key][:2], key
        assert abs(ttl - plain_state[key][2]) <= 1, key


def test_script_flush_falls_back_to_eval(
    make_client: Callable[..., Any], redis_url: str, r: Any
) -> None:
    client = make_client(redis_url)
    client.enqueue(Task("t", b"1"))
    r.config_resetstat()
    r.script_flush()
    info = client.enqueue(Task("t", b"2"))
    r.script_flush()
    infos = client.enqueue_many([Task("t", bytes([i])) for i in range(5)])
    pending = r.lrange("asynq:{default}:pending", 0, -1)
    assert len(pending) == 7
    assert {info.id, *(i.id for i in infos)} <= {p.decode() for p in pending}
    stats = r.info("commandstats")
    assert stats["cmdstat_eval"]["calls"] == 6  # one single, five in the pipeline


def test_survives_a_redis_restart(make_client: Callable[..., Any]) -> None:
    server = RedisProcess()
    port = server.port
    try:
        client = make_client(server.url)
        first = client.enqueue(Task("t", b"before"))
        server.stop()
        server = RedisProcess(port)  # same port, empty, scripts forgotten
        second = client.enqueue(Task("t", b"after"))
        many = client.enqueue_many([Task("t", b"bulk")] * 3)
        raw: Any = redis.Redis(port=port)
        try:
            pending = raw.lrange("asynq:{default}:pending", 0, -1)
        finally:
            raw.close()
        assert first.id.encode() not in pending
        assert {second.id, *(i.id for i in many)} == {p.decode() for p in pending}
    finally:
        server.stop()


def test_threads_share_one_client(redis_url: str, r: Any) -> None:
    with asynq.Client(redis_url) as client:
        ids: list[str] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(200):
                    ids.append(client.enqueue(Task("t", b"x")).id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(set(ids)) == 1600
        assert {p.decode() for p in r.lrange("asynq:{default}:pending", 0, -1)} == set(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_does_not_reuse_parent_connections(redis_url: str, r: Any) -> None:
    with asynq.Client(redis_url) as client:
        client.enqueue(Task("t", b"parent-1"))  # leaves a parked connection behind
        pid = os.fork()
        if pid == 0:  # child: must open its own connection
            code = 1
            try:
                client.enqueue(Task("t", b"child"))
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        client.enqueue(Task("t", b"parent-2"))  # the parent's socket is still in step
    assert r.llen("asynq:{default}:pending") == 3


def test_close_returns_parked_connections(redis_url: str) -> None:
    shared = redis.Redis.from_url(redis_url)
    try:
        client = asynq.Client(shared)
        client.enqueue(Task("t"))
        pool = shared.connection_pool
        assert len(pool._in_use_connections) == 1  # parked by the lane
        client.close()
        assert not pool._in_use_connections
        assert shared.ping()
    finally:
        shared.close()


def test_only_plain_standalone_clients_get_the_lane(cluster: Any, redis_url: str) -> None:
    assert SyncLane.attach(redis.Redis.from_url(redis_url)) is not None
    assert AsyncLane.attach(redis.asyncio.Redis.from_url(redis_url)) is not None
    assert SyncLane.attach(PlainRedis.from_url(redis_url)) is None
    assert AsyncLane.attach(PlainAsyncRedis.from_url(redis_url)) is None
    single = redis.Redis.from_url(redis_url, single_connection_client=True)
    cluster_client = asynq.RedisConnection.from_url(cluster.url).sync_client()
    try:
        assert SyncLane.attach(single) is None
        assert SyncLane.attach(cluster_client) is None
    finally:
        single.close()
        cluster_client.close()


# --- the drivers, call by call --------------------------------------------------------------

KEY, HKEY, ZKEY = "fp:string", "fp:hash", "fp:zset"

#: What follows the task key in the enqueue script's KEYS (asynq._base.keys.hand_off_keys).
HAND_OFF_KEY_NAMES = ("pending", "handoff", "paused", "active", "lease")


def _enqueue(task_id: str) -> Script:
    """The enqueue script's call for task ``task_id`` of queue ``fp:{q}``."""
    queue_keys = tuple(f"fp:{{q}}:{name}" for name in HAND_OFF_KEY_NAMES)
    return Script("enqueue", (f"fp:{{q}}:t:{task_id}", *queue_keys), (b"msg", task_id, 1))


CALLS: list[Command | Script | Pipeline] = [
    Command(("GET", KEY)),
    Command(("HGETALL", HKEY)),
    Command(("SET", "fp:other", "v")),  # redis-py post-processes this reply (b"OK" -> True)
    Command(("HGET", HKEY, "missing")),
    Command(("LRANGE", "fp:none", 0, -1)),
    Command(("ZRANGE", ZKEY, 0, -1, "WITHSCORES")),
    Command(("ZSCORE", ZKEY, "a")),
    Command(("INCR", KEY)),  # an error reply
    Command(("CONFIG GET", "maxmemory-policy")),  # a two-word command name
    _enqueue("1"),
    Pipeline(
        (
            Command(("EXISTS", KEY, HKEY)),
            Command(("INCR", KEY)),
            Command(("HGET", HKEY, "f")),
            _enqueue("1"),
            Command(("ZSCORE", ZKEY, "b")),
        )
    ),
]


def _one(call: Command | Script | Pipeline | Stream) -> Op[Any]:
    try:
        reply = yield call
    except ReplyError as exc:  # what the drivers throw in for an error reply
        return ("error", str(exc))
    return _plainly(reply)


def _plainly(reply: Any) -> Any:
    if isinstance(reply, list):
        return [_plainly(r) for r in reply]
    if isinstance(reply, BrokerError):
        return ("error", type(reply).__name__, str(reply))
    return reply


def _seed(r: Any) -> None:
    r.flushdb()
    r.set(KEY, "text")
    r.hset(HKEY, mapping={"f": "v", "g": "w"})
    r.zadd(ZKEY, {"a": 1.5, "b": 2})


def test_sync_driver_replies_equal_the_plain_path(redis_url: str, r: Any) -> None:
    lane, plain = redis.Redis.from_url(redis_url), PlainRedis.from_url(redis_url)
    try:
        got = []
        for client in (lane, plain):
            driver = SyncDriver(client)
            _seed(r)
            got.append([driver.run(_one(call)) for call in CALLS])
        assert SyncDriver(lane)._lane is not None
        assert got[0] == got[1]
    finally:
        lane.close()
        plain.close()


async def test_async_driver_replies_equal_the_plain_path(redis_url: str, r: Any) -> None:
    lane, plain = redis.asyncio.Redis.from_url(redis_url), PlainAsyncRedis.from_url(redis_url)
    try:
        got = []
        for client in (lane, plain):
            driver = AsyncDriver(client)
            _seed(r)
            got.append([await driver.run(_one(call)) for call in CALLS])
        assert got[0] == got[1]
    finally:
        await lane.aclose()
        await plain.aclose()


def _stream(n: int) -> Stream:
    """A Stream of ``n`` enqueue scripts (after one SADD), made lazily."""
    made = (_enqueue(str(i)) for i in range(n))
    return Stream(itertools.chain([Command(("SADD", "fp:queues", "q"))], made))


@pytest.mark.parametrize("n", [0, 1, 150], ids=lambda n: f"{n} scripts")
def test_streams_equal_the_plain_path(redis_url: str, r: Any, n: int) -> None:
    got = []
    for client in (redis.Redis.from_url(redis_url), PlainRedis.from_url(redis_url)):
        r.flushdb()
        r.set("fp:{q}:t:3", "taken")  # one script replies 0
        r.script_flush()  # and every script first meets NOSCRIPT
        got.append((SyncDriver(client).run(_one(_stream(n))), redis_state(r)))
        client.close()
    assert got[0] == got[1]
    assert len(got[0][0]) == n + 1


async def test_async_streams_equal_the_plain_path(redis_url: str, r: Any) -> None:
    got = []
    for client in (redis.asyncio.Redis.from_url(redis_url), PlainAsyncRedis.from_url(redis_url)):
        r.flushdb()
        r.script_flush()
        got.append((await AsyncDriver(client).run(_one(_stream(100))), redis_state(r)))
        await client.aclose()
    assert got[0] == got[1]


def test_stream_refuses_a_command_whose_reply_redis_py_parses(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        with pytest.raises(ValueError, match="SET"):  # redis-py turns its b"OK" into True
            SyncDriver(client).run(_one(Stream(iter([Command(("SET", "fp:k", "v"))]))))
    finally:
        client.close()


@pytest.mark.parametrize("call", CALLS[-2:], ids=["script", "pipeline"])
def test_meanwhile_runs_once_even_after_noscript(redis_url: str, r: Any, call: Any) -> None:
    for client in (redis.Redis.from_url(redis_url), PlainRedis.from_url(redis_url)):
        _seed(r)
        r.script_flush()
        calls: list[int] = []
        SyncDriver(client).run(_one(call), functools.partial(calls.append, 1))
        assert calls == [1]
        assert r.exists("fp:{q}:t:1")
        client.close()


def test_pipeline_with_unpackable_argument_writes_nothing(redis_url: str, r: Any) -> None:
    bad = Pipeline((Command(("SET", "fp:first", "v")), Command(("SET", "fp:second", True))))
    for client in (redis.Redis.from_url(redis_url), PlainRedis.from_url(redis_url)):
        with pytest.raises(BrokerError, match="DataError"):
            SyncDriver(client).run(_one(bad))
        assert not r.exists("fp:first")
        client.close()


# --- the client's shortcuts -----------------------------------------------------------------

OPTION_SETS: list[dict[str, Any]] = [
    {},
    {"queue": "critical"},
    {"queue": "q", "max_retry": 0, "timeout": 30, "retention": timedelta(hours=1)},
    {"max_retry": -3, "timeout": timedelta(minutes=2)},
    {"group": "g"},
    {"group": "g", "queue": "other", "retention": 60},
    {"headers": {"trace": "abc"}},
]
TASKS = [
    Task("t"),
    Task("t", b""),
    Task("other", b'{"a":1}'),
    Task("t", b"\x00\xff" * 50),
    Task("with-opts", b"x", queue="own", max_retry=2),
    Task("with-headers", b"x", headers={"k": "v"}),
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=repr)
def test_compose_memo_equals_compose(opts: dict[str, Any]) -> None:
    clock = FakeClock(NOW)
    core = _ClientCore(clock)
    key = ComposeMemo.key(opts)
    now = clock.now()
    core.compose(Task("warm", b"up"), dict(opts), new_task_id(), key, now)  # makes a template
    for task in TASKS:
        task_id = new_task_id()
        got = core.compose(task, dict(opts), task_id, key, now)
        want = compose(task, {**opts, "task_id": task_id}, now, now)
        assert got.msg.SerializeToString(deterministic=True) == want.msg.SerializeToString(
            deterministic=True
        )
        assert (got.placement, got.process_at, got.unique_ttl) == (
            want.placement,
            want.process_at,
            want.unique_ttl,
        )
        template = core._memo.template(key)
        if template is not None and ComposeMemo.plain(task):  # a bulk copy's TaskInfo
            copied = ComposeMemo.copy_of(template, task, task_id, now)
            assert copy_info(info_base(template, now), task, task_id) == fresh_info(copied)


@pytest.mark.parametrize(
    "opts",
    [{"unique": 60}, {"process_in": 5}, {"process_at": NOW + 9}, {"task_id": "x"}, {"deadline": 1}],
    ids=repr,
)
def test_time_or_payload_dependent_options_are_composed_in_full(opts: dict[str, Any]) -> None:
    assert ComposeMemo.key(opts) is None


def test_memo_still_refuses_bad_options() -> None:
    core = _ClientCore(FakeClock(NOW))
    good = {"max_retry": 1}
    core.compose(Task("t"), good, new_task_id(), ComposeMemo.key(good), NOW)
    bad = {"max_retry": True}
    with pytest.raises(asynq.ValidationError):
        core.compose(Task("t"), dict(bad), new_task_id(), ComposeMemo.key(bad), NOW)


@pytest.mark.parametrize("opts", [{}, {"process_in": 60}, {"group": "g"}], ids=repr)
def test_fresh_info_equals_from_message(opts: dict[str, Any]) -> None:
    c = compose(Task("t", b"p", headers={"a": "b"}), {**opts, "deadline": NOW + 60}, NOW, NOW)
    state = {"pending": TaskState.PENDING, "scheduled": TaskState.SCHEDULED}.get(
        c.placement.value, TaskState.AGGREGATING
    )
    when = None if state is TaskState.AGGREGATING else datetime.fromtimestamp(c.process_at, UTC)
    assert fresh_info(c) == TaskInfo.from_message(c.msg, state, next_process_at=when)


UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_task_ids_are_uuid4_text() -> None:
    ids = [new_task_id() for _ in range(200)] + list(new_task_ids(200))
    assert len(set(ids)) == 400
    for text in ids:
        assert UUID4.match(text), text
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_makes_ids_of_its_own() -> None:
    new_task_id()  # the parent now holds ids made ahead
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the ids it would give its tasks
        code = 1
        try:
            os.write(write, ",".join(new_task_id() for _ in range(IDS_AHEAD)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    parent = {new_task_id() for _ in range(IDS_AHEAD)}
    assert len(child) == IDS_AHEAD
    assert not child & parent


def test_bulk_ids_cover_every_variant() -> None:
    variants = {text[19] for text in new_task_ids(400)}
    assert variants == set("89ab")
