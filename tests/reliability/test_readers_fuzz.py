"""Property tests of the readers: random garbage written into asynq's keys never crashes the
Inspector, the CLI, the dashboard or /metrics.

Each example seeds one queue with a task in every state (in Go's layout), damages it with a
few random writes (protobuf bytes, message fields, hash fields, keys of the wrong type,
NaN/inf scores and counters, names that are not UTF-8), then reads everything back. Readers
may report damaged data (``BrokerReplyError``, ``UnreadableDataError``, an ``(unreadable)``
cell, a 502 from the JSON API) but never fail with anything else.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

import asynq
from asynq._base import keys
from asynq._base.codec import encode_message
from asynq.cli._root import cli
from asynq.errors import is_damaged_data
from asynq.prometheus import AsynqCollector
from asynq.web import create_app
from tests.helpers import seed

Q = "q"
GROUP = "g"
NOW = int(time.time())
STATES = ("pending", "active", "scheduled", "retry", "archived", "completed", "aggregating")
# Bounded: each example seeds and reads a real Redis (about 10 s for the three tests).
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def seed_queue(r: redis.Redis) -> dict[str, str]:
    """One task in each state of queue ``q``, today's counters; returns state → task id."""
    r.flushdb()
    seed.register(r, Q)

    def msg(**kw: Any) -> Any:
        return seed.message("t", b'{"n": 1}', queue=Q, **kw)

    ids = {
        "pending": seed.pending(r, msg(), pending_since_ns=(NOW - 5) * 10**9),
        "active": seed.active(r, msg(), lease_until=NOW + 30),
        "scheduled": seed.scheduled(r, msg(), process_at=NOW + 60),
        "retry": seed.retry(r, msg(retried=1, error_msg="boom"), retry_at=NOW + 60),
        "archived": seed.archived(r, msg(error_msg="x", last_failed_at=NOW), archived_at=NOW),
        "completed": seed.completed(r, msg(retention=60, completed_at=NOW), result=b"ok"),
        "aggregating": seed.aggregating(r, msg(group_key=GROUP), added_at=NOW),
    }
    seed.counters(r, Q, day_unix=NOW, processed=3, failed=1, processed_total=9, failed_total=2)
    return ids


_COLLECTION_KEYS = {
    "pending": keys.pending_key(Q),
    "active": keys.active_key(Q),
    "scheduled": keys.scheduled_key(Q),
    "retry": keys.retry_key(Q),
    "archived": keys.archived_key(Q),
    "completed": keys.completed_key(Q),
    "groups": keys.groups_key(Q),
    "group": keys.group_key(Q, GROUP),
    "lease": keys.lease_key(Q),
    "processed": keys.processed_key(Q, NOW),
    "failed": keys.failed_key(Q, NOW),
    "processed_total": keys.processed_total_key(Q),
    "paused": keys.paused_key(Q),
}
_MSG_FIELDS = ("timeout", "deadline", "retention", "completed_at", "last_failed_at", "retried")
_ZSETS = ("scheduled", "retry", "archived", "completed", "group", "lease")
_TEXT = st.one_of(
    st.sampled_from([b"NaN", b"inf", b"-inf", b"1e400", b"", b"-1", b"9" * 40]),
    st.binary(max_size=12),
)

state_names = st.sampled_from(STATES)
damage = st.one_of(
    st.tuples(st.just("msg-bytes"), state_names, st.binary(max_size=40)),
    st.tuples(
        st.just("msg-field"),
        state_names,
        st.sampled_from(_MSG_FIELDS),
        st.integers(-(2**63), 2**63 - 1),
    ),
    st.tuples(
        st.just("hash-field"),
        state_names,
        st.sampled_from(["state", "result", "pending_since", "group", "msg"]),
        _TEXT,
    ),
    st.tuples(st.just("task-key-type"), state_names, st.sampled_from(["string", "list", "set"])),
    st.tuples(
        st.just("key-type"),
        st.sampled_from(sorted(_COLLECTION_KEYS)),
        st.sampled_from(["string", "hash", "list", "set", "zset"]),
    ),
    st.tuples(
        st.just("score"),
        st.sampled_from(_ZSETS),
        st.one_of(st.floats(allow_nan=False), st.sampled_from([float("inf"), float("-inf")])),
    ),
    st.tuples(
        st.just("counter"), st.sampled_from(["processed", "failed", "processed_total"]), _TEXT
    ),
    st.tuples(st.just("queue-name"), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("group-name"), st.binary(min_size=1, max_size=8)),
)


def _replace_with_type(r: redis.Redis, key: str, kind: str) -> None:
    r.delete(key)
    {
        "string": lambda: r.set(key, "x"),
        "hash": lambda: r.hset(key, "f", "v"),
        "list": lambda: r.rpush(key, "x"),
        "set": lambda: r.sadd(key, "x"),
        "zset": lambda: r.zadd(key, {"x": 1}),
    }[kind]()


def apply(r: redis.Redis, ids: dict[str, str], op: tuple[Any, ...]) -> None:
    """Write one piece of damage."""
    kind = op[0]
    if kind in ("msg-bytes", "msg-field", "hash-field", "task-key-type"):
        task_key = keys.task_key(Q, ids[op[1]])
        if kind != "task-key-type" and r.type(task_key) not in (b"hash", b"none"):
            return  # an earlier op made it another type: that damage stands
        if kind == "msg-bytes":
            r.hset(task_key, "msg", op[2])
        elif kind == "msg-field":
            msg = seed.message(queue=Q, id=ids[op[1]])
            setattr(msg, op[2], op[3] if op[2] != "retried" else op[3] % 2**31)
            r.hset(task_key, "msg", encode_message(msg))
        elif kind == "hash-field":
            r.hset(task_key, op[2], op[3])
        else:
            _replace_with_type(r, task_key, op[2])
    elif kind == "key-type":
        _replace_with_type(r, _COLLECTION_KEYS[op[1]], op[2])
    elif kind == "score":
        key = _COLLECTION_KEYS[op[1]]
        if r.type(key) == b"zset":
            for member in r.zrange(key, 0, -1):
                r.zadd(key, {member: op[2]})
    elif kind == "counter":
        r.delete(_COLLECTION_KEYS[op[1]])
        r.set(_COLLECTION_KEYS[op[1]], op[2])
    elif kind == "queue-name":
        r.sadd(keys.ALL_QUEUES, op[1])
    elif kind == "group-name" and r.type(keys.groups_key(Q)) in (b"set", b"none"):
        r.sadd(keys.groups_key(Q), op[1])


def damaged_queue(r: redis.Redis, ops: list[tuple[Any, ...]]) -> dict[str, str]:
    """:func:`seed_queue`, then each of ``ops`` applied; returns state → task id."""
    ids = seed_queue(r)
    for op in ops:
        apply(r, ids, op)
    return ids


def _tolerated(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(...)``; an asynq error about damaged data (or a vanished queue or task) is an
    answer too, anything else fails the test."""
    try:
        return call(*args, **kwargs)
    except (asynq.QueueNotFoundError, asynq.TaskNotFoundError):
        return None
    except asynq.BrokerError as exc:
        assert is_damaged_data(exc), exc
        return None


@FUZZ
@given(ops=st.lists(damage, min_size=1, max_size=5))
def test_the_inspector_and_the_collector_never_crash(
    ops: list[tuple[Any, ...]], r: redis.Redis, redis_url: str
) -> None:
    ids = damaged_queue(r, ops)
    with asynq.Inspector(redis_url) as insp:
        names = insp.queues()
        assert Q in names
        for name in names:
            _tolerated(insp.get_queue_info, name)
            _tolerated(insp.history, name, 2)
            _tolerated(insp.groups, name)
        for state in STATES:
            if state == "aggregating":
                _tolerated(insp.list_aggregating_tasks, Q, GROUP)
            else:
                _tolerated(getattr(insp, f"list_{state}_tasks"), Q)
        for task_id in ids.values():
            _tolerated(insp.get_task_info, Q, task_id)
        # The prometheus_client collector reads through the same Inspector.
        registry = CollectorRegistry()
        registry.register(AsynqCollector(insp))
        assert b"asynq_queue_paused_total" in generate_latest(registry)


@FUZZ
@given(ops=st.lists(damage, min_size=1, max_size=5))
def test_the_cli_never_prints_a_traceback(
    ops: list[tuple[Any, ...]], r: redis.Redis, redis_url: str
) -> None:
    damaged_queue(r, ops)
    runner = CliRunner()
    commands = [["stats"], ["queue", "inspect", Q], ["queue", "history", Q, "-x", "2"]]
    commands += [["task", "ls", "-q", Q, "-s", s] for s in STATES if s != "aggregating"]
    commands += [["task", "ls", "-q", Q, "-s", "aggregating", "-g", GROUP], ["stats", "--json"]]
    for args in commands:
        result = runner.invoke(cli, ["-u", redis_url, *args])
        assert result.exit_code in (0, 1), (args, result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.exception,
        )
        assert "Traceback" not in result.output
        assert "cannot talk to Redis" not in result.output, (args, result.output)


@pytest.fixture
async def dashboard(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(redis_url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.asynq.aclose()


@FUZZ
@given(ops=st.lists(damage, min_size=1, max_size=5))
async def test_the_dashboard_and_metrics_never_fail(
    ops: list[tuple[Any, ...]], r: redis.Redis, dashboard: httpx.AsyncClient
) -> None:
    ids = damaged_queue(r, ops)
    pages = ["/", "/metrics", *(f"/queues/{Q}?state={s}" for s in STATES)]
    pages += [f"/queues/{Q}/tasks/{task_id}" for task_id in ids.values()]
    for path in pages:
        resp = await dashboard.get(path)
        # A task whose state field is damaged may no longer be found: 404 is an answer.
        allowed = (200, 404, 502) if "/tasks/" in path else (200,)
        assert resp.status_code in allowed, (path, resp.status_code, resp.text[:300])
    api = ["/api/queues", *(f"/api/queues/{Q}/{s}_tasks" for s in STATES if s != "aggregating")]
    for path in api:
        resp = await dashboard.get(path)
        assert resp.status_code in (200, 502), (path, resp.status_code, resp.text[:300])
