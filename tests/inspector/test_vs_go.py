"""The Python Inspector answers and acts exactly like Go's Inspector on the same Redis data.

Two starting states: one written by the Python Client plus raw Go-layout seeds
(``python_scenario``), one written entirely by Go (``GO_SEED``: a Go Client enqueues, a Go
Server processes a queue). Reads must return equal values; each mutation is run by Go and by
Python from the same snapshot, and must give the same result or error and leave the same keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from tests.helpers import gopeer
from tests.inspector._calls import compare_reads, py_call, read_calls
from tests.inspector._scenario import GO_SEED, Scenario, python_scenario
from tests.inspector._support import (
    Snapshot,
    dump,
    go_calls,
    go_flags,
    go_outcome,
    now_sec,
    py_outcome,
    restore,
    snapshot,
    with_now,
)

pytestmark = pytest.mark.interop


def scenario_from_redis(r: redis.Redis, queue: str) -> Scenario:
    """The ids of ``queue``'s tasks, read from the raw keys, in Go's listing order."""

    def zset(name: str) -> list[str]:
        return [m.decode() for m in r.zrange(f"asynq:{{{queue}}}:{name}", 0, -1)]

    def lst(name: str) -> list[str]:
        return [m.decode() for m in reversed(r.lrange(f"asynq:{{{queue}}}:{name}", 0, -1))]

    sc = Scenario(queue, pending=lst("pending"), active=lst("active"))
    sc.scheduled, sc.retry = zset("scheduled"), zset("retry")
    sc.archived, sc.completed = zset("archived"), zset("completed")
    for group in sorted(g.decode() for g in r.smembers(f"asynq:{{{queue}}}:groups")):
        sc.groups[group] = zset(f"g:{group}")
    for tid in sc.scheduled:
        if r.hexists(f"asynq:{{{queue}}}:t:{tid}", "unique_key"):
            sc.unique_scheduled = tid
    for tid in sc.pending:
        if r.hexists(f"asynq:{{{queue}}}:t:{tid}", "unique_key"):
            sc.unique_pending = tid
    return sc


@dataclass
class GoSeeded:
    snap: Snapshot
    gq: Scenario
    gw: Scenario


@pytest.fixture(scope="module")
def go_seeded(redis_server: str) -> Iterator[GoSeeded]:
    """Redis filled by Go once per module; tests restore it from the snapshot."""
    r = redis.Redis.from_url(redis_server)
    r.flushdb()
    gopeer.run_go_json("insp_seed", *go_flags(redis_server), input=GO_SEED)
    seeded = GoSeeded(snapshot(r), scenario_from_redis(r, "gq"), scenario_from_redis(r, "gw"))
    assert len(seeded.gq.pending) == 8 and len(seeded.gq.scheduled) == 3
    assert (
        seeded.gq.unique_scheduled
        and seeded.gq.unique_pending
        and set(seeded.gq.groups) == {"g1", "g2"}
    )
    assert (len(seeded.gw.retry), len(seeded.gw.archived), len(seeded.gw.completed)) == (2, 2, 2)
    r.flushdb()
    r.close()
    yield seeded


@pytest.fixture
def py_state(r, redis_url) -> Scenario:
    sc = python_scenario(r, redis_url, now_sec() + 0.5)
    r.sadd("asynq:queues", "empty")
    return sc


@pytest.fixture
def go_state(r, redis_url, go_seeded) -> GoSeeded:
    restore(r, go_seeded.snap)
    r.sadd("asynq:queues", "empty")
    return go_seeded


# ---- reads ---------------------------------------------------------------------------------


def test_reads_of_python_written_state(make_inspector, redis_url, py_state):
    sc = py_state
    insp = make_inspector(redis_url)
    compare_reads(redis_url, insp, read_calls(sc.queue, sc.all_ids(), list(sc.groups)))
    compare_reads(redis_url, insp, read_calls("empty", ["x"], []))


def test_reads_of_go_written_state(make_inspector, redis_url, go_state):
    insp = make_inspector(redis_url)
    for sc in (go_state.gq, go_state.gw):
        compare_reads(redis_url, insp, read_calls(sc.queue, sc.all_ids(), list(sc.groups)))


# ---- mutations -----------------------------------------------------------------------------

#: How a case names a task: a state of the scenario ("pending" = its first/oldest task), a
#: group name, "unique" / "unique_pending" (a scheduled / pending task holding a lock) or
#: "missing".
SINGLE_OPS = ["RunTask", "ArchiveTask", "DeleteTask"]


def resolve(sc: Scenario, ref: str) -> str:
    if ref == "missing":
        return "no-such-id"
    if ref == "unique":
        return sc.unique_scheduled
    if ref == "unique_pending":
        return sc.unique_pending
    if ref in sc.groups:
        return sc.groups[ref][0]
    ids: list[str] = getattr(sc, ref)
    return ids[0]


Prep = Callable[[redis.Redis, Scenario], None]


def _pause(r: redis.Redis, sc: Scenario) -> None:
    r.set(f"asynq:{{{sc.queue}}}:paused", 1)


def _no_active(r: redis.Redis, sc: Scenario) -> None:
    r.delete(f"asynq:{{{sc.queue}}}:active", f"asynq:{{{sc.queue}}}:lease")


def cases(refs: dict[str, list[str]]) -> list[Any]:
    """Mutation cases as (call-with-refs, prep) pytest params; ``refs`` maps a scenario key
    ("pq", "gq", "gw") to the task refs that exist in it."""
    out = []
    for key, names in refs.items():
        for op in SINGLE_OPS:
            for ref in [*names, "missing"]:
                out.append(pytest.param(key, {"op": op, "id": ref}, None, id=f"{key}-{op}-{ref}"))
        for ref in ("scheduled", "unique", "retry", "pending", "missing"):
            if ref in names or (ref == "missing" and "scheduled" in names):
                call = {"op": "UpdateTaskPayload", "id": ref, "payload": b"\x00new"}
                out.append(pytest.param(key, call, None, id=f"{key}-Update-{ref}"))
        bulk = {
            "DeleteAll{}Tasks": ["pending", "scheduled", "retry", "archived", "completed"],
            "RunAll{}Tasks": ["scheduled", "retry", "archived"],
            "ArchiveAll{}Tasks": ["pending", "scheduled", "retry"],
        }
        for pattern, states in bulk.items():
            for state in states:
                if state in names:
                    op = pattern.format(state.capitalize())
                    out.append(pytest.param(key, {"op": op}, None, id=f"{key}-{op}"))
            for group in [n for n in names if n.startswith("g")] + ["no-such-group"]:
                op = pattern.format("Aggregating")
                call = {"op": op, "group": group}
                out.append(pytest.param(key, call, None, id=f"{key}-{op}-{group}"))
    return out


QUEUE_CASES = [
    pytest.param("pq", {"op": "PauseQueue"}, None, id="pause"),
    pytest.param("pq", {"op": "PauseQueue"}, _pause, id="pause-paused"),
    pytest.param("pq", {"op": "UnpauseQueue"}, None, id="unpause-not-paused"),
    pytest.param("pq", {"op": "UnpauseQueue"}, _pause, id="unpause"),
    pytest.param("pq", {"op": "DeleteQueue"}, None, id="delete-queue-not-empty"),
    pytest.param("pq", {"op": "DeleteQueue", "force": True}, None, id="delete-queue-active"),
    pytest.param("pq", {"op": "DeleteQueue", "force": True}, _no_active, id="delete-queue-force"),
    pytest.param("pq", {"op": "DeleteQueue", "queue": "empty"}, None, id="delete-empty-queue"),
    pytest.param("pq", {"op": "DeleteQueue", "queue": "ghost"}, None, id="delete-unknown-queue"),
    pytest.param(
        "pq", {"op": "RunTask", "queue": "ghost", "id": "scheduled"}, None, id="ghost-run"
    ),
    pytest.param("pq", {"op": "DeleteAllRetryTasks", "queue": "ghost"}, None, id="ghost-delall"),
    pytest.param("pq", {"op": "CancelProcessing", "id": "active"}, None, id="cancel"),
    pytest.param("gq", {"op": "DeleteQueue", "force": True}, None, id="go-delete-queue-force"),
    pytest.param("gw", {"op": "DeleteQueue"}, None, id="go-delete-queue-not-empty"),
    pytest.param("gw", {"op": "DeleteQueue", "force": True}, None, id="go-delete-queue-gw"),
]

PY_REFS = {
    "pq": [
        *("pending", "unique_pending", "active", "scheduled", "unique", "retry", "archived"),
        *("completed", "g1", "g2"),
    ],
}
GO_REFS = {
    "gq": ["pending", "unique_pending", "scheduled", "unique", "g1", "g2"],
    "gw": ["retry", "archived", "completed"],
}


def run_both(r: redis.Redis, redis_url: str, insp: Any, call: dict[str, Any]) -> None:
    """Run ``call`` in Go then in Python from the same state; compare outcomes and keys."""
    start = snapshot(r)
    t0 = now_sec()
    answers = go_calls(redis_url, call)
    go = go_outcome(call["op"], answers[0])
    if call["op"] == "UpdateTaskPayload" and go.error is None:
        # Go returns nothing; Python returns the updated task, which Go reads back the same.
        got = go_calls(redis_url, {"op": "GetTaskInfo", "queue": call["queue"], "id": call["id"]})
        go = go_outcome("GetTaskInfo", got[0])
    go_keys = with_now(dump(r), t0, now_sec())
    restore(r, start)
    t0 = now_sec()
    py = py_outcome(py_call(insp, call))
    py_keys = with_now(dump(r), t0, now_sec())
    assert py == go, f"{call}: Python {py} != Go {go}"
    assert py_keys == go_keys, f"{call}: Redis differs after Python and Go"


def _concrete(call: dict[str, Any], sc: Scenario) -> dict[str, Any]:
    call = {"queue": sc.queue, **call}
    if "id" in call:
        call["id"] = resolve(sc, call["id"])
    return call


@pytest.mark.parametrize(("key", "call", "prep"), cases(PY_REFS) + QUEUE_CASES[:12])
def test_mutation_from_python_written_state(
    make_inspector, r, redis_url, py_state, key, call, prep
):
    if prep:
        prep(r, py_state)
    insp = make_inspector(redis_url)
    run_both(r, redis_url, insp, _concrete(call, py_state))


@pytest.mark.parametrize(("key", "call", "prep"), cases(GO_REFS) + QUEUE_CASES[12:])
def test_mutation_from_go_written_state(make_inspector, r, redis_url, go_state, key, call, prep):
    sc = go_state.gq if key == "gq" else go_state.gw
    if prep:
        prep(r, sc)
    insp = make_inspector(redis_url)
    run_both(r, redis_url, insp, _concrete(call, sc))
