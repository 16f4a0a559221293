"""One Inspector call described once, run by Go (``insp_call``) and by the Python Inspector.

A call is a dict in ``insp_call``'s input form: ``{"op": "ListPendingTasks", "queue": "q",
"page": 2, "size": 10}``; :func:`py_call` maps it to the Python method of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from tests.inspector._support import Outcome, go_calls, go_outcome, py_outcome, without_now

LIST_OPS = [
    "ListPendingTasks",
    "ListActiveTasks",
    "ListScheduledTasks",
    "ListRetryTasks",
    "ListArchivedTasks",
    "ListCompletedTasks",
]


def snake(op: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", op).lower()


def py_call(insp: Any, call: dict[str, Any]) -> Callable[[], Any]:
    """A thunk running ``call`` on the Python inspector ``insp``."""
    op = call["op"]
    method = getattr(insp, snake(op))
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if op == "ListSchedulerEnqueueEvents":
        args.append(call["entry"])
    elif op not in ("Queues", "Servers", "SchedulerEntries", "CancelProcessing"):
        args.append(call["queue"])
    if "group" in call:
        args.append(call["group"])
    if "id" in call:
        args.append(call["id"])
    if op == "UpdateTaskPayload":
        args.append(call["payload"])
    if op == "History":
        args.append(call["days"])
    if op == "DeleteQueue":
        args.append(call.get("force", False))
    if call.get("page"):
        kwargs["page"] = call["page"]
    if call.get("size"):
        kwargs["page_size"] = call["size"]
    return lambda: method(*args, **kwargs)


def comparable(op: str, outcome: Outcome) -> Outcome:
    """Drop what depends on the instant of each side's call: pending tasks' "now", the
    snapshot time and the exact latency (kept: whether there is one)."""
    value = outcome.value
    if op == "GetQueueInfo" and value is not None:
        value = replace(value, timestamp=None, latency=value.latency > timedelta(0))
    elif op == "History" and value is not None:
        value = [replace(d, date=None) for d in value]
    else:
        value = without_now(value)
    return Outcome(value=value, error=outcome.error)


def compare_reads(target: Any, insp: Any, calls: list[dict[str, Any]]) -> None:
    """Assert that each call answers the same in Go and Python (read-only calls)."""
    answers = go_calls(target, *calls)
    for call, answer in zip(calls, answers, strict=True):
        go = comparable(call["op"], go_outcome(call["op"], answer))
        py = comparable(call["op"], py_outcome(py_call(insp, call)))
        assert py == go, f"{call}: Python {py} != Go {go}"


def read_calls(
    queue: str, task_ids: list[str], groups: list[str], unregistered: str = "ghost"
) -> list[dict[str, Any]]:
    """Every read call on ``queue``, with several pagings, and on an unregistered queue."""
    calls: list[dict[str, Any]] = [
        {"op": "Queues"},
        {"op": "GetQueueInfo", "queue": queue},
        {"op": "History", "queue": queue, "days": 3},
        {"op": "Groups", "queue": queue},
    ]
    pagings = [{}, {"size": 1}, *({"page": p, "size": 2} for p in (1, 2, 3, 9))]
    for op in LIST_OPS:
        calls += [{"op": op, "queue": queue, **paging} for paging in pagings]
        calls.append({"op": op, "queue": unregistered})
    for group in [*groups, "no-such-group"]:
        calls += [
            {"op": "ListAggregatingTasks", "queue": queue, "group": group, **paging}
            for paging in pagings[:4]
        ]
    calls += [{"op": "GetTaskInfo", "queue": queue, "id": tid} for tid in task_ids]
    calls += [
        {"op": "GetTaskInfo", "queue": queue, "id": "no-such-id"},
        {"op": "GetTaskInfo", "queue": unregistered, "id": task_ids[0]},
        {"op": "GetQueueInfo", "queue": unregistered},
        {"op": "History", "queue": unregistered, "days": 1},
        {"op": "ListAggregatingTasks", "queue": unregistered, "group": "g"},
    ]
    return calls
