"""Go's Inspector reads the tasks Python enqueues exactly as Python describes them.

Python enqueues the whole option table (every option, every placement); Go's
``Inspector.GetTaskInfo``, ``List*Tasks``, ``Groups`` and ``GetQueueInfo`` (``peer_inspect``)
must report the same TaskInfo fields that the Python client returned.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from tests.helpers import gopeer
from tests.interop.cases import Case, go_info, info_json, table, without

pytestmark = pytest.mark.interop

#: Go's Inspector reports a pending task's next_process_at as the time of the inspection.
PENDING_CLOCK_SLACK = 5


def _assert_same(case: Case, py: dict[str, Any], go: dict[str, Any]) -> None:
    assert without(go, "next_process_at") == without(py, "next_process_at"), case.name
    if py["state"] == "pending":
        assert abs(go["next_process_at"] - py["next_process_at"]) <= PENDING_CLOCK_SLACK
    else:
        assert go["next_process_at"] == py["next_process_at"], case.name


def _go_lists_where(lists: dict[str, Any], info: dict[str, Any]) -> list[dict[str, Any]]:
    per_queue = lists[info["queue"]]
    if info["state"] == "aggregating":
        return list(per_queue["aggregating"][info["group"]])
    return list(per_queue[info["state"]] or [])


def check_go_sees_python_tasks(client: Any, go_flags: list[str]) -> None:
    now = int(time.time())
    cases = table(now)
    py = {c.name: info_json(c.enqueue(client)) for c in cases}
    for c in cases:
        assert without(py[c.name], "next_process_at", "is_orphaned") == c.expected_fields(now)

    out = gopeer.run_go_json(
        "peer_inspect", *go_flags, input={"get": [{"queue": c.queue, "id": c.id} for c in cases]}
    )

    assert sorted(out["queues"]) == sorted({c.queue for c in cases})
    for c, got in zip(cases, out["get"], strict=True):
        assert got["error"] == "", (c.name, got["error"])
        _assert_same(c, py[c.name], go_info(got["info"]))

    # Every task sits in exactly the one Go list matching its state, with the same fields.
    listed = Counter()
    for q, per_queue in out["lists"].items():
        for state, infos in per_queue.items():
            if state == "aggregating":
                listed.update((q, state, i["id"]) for group in infos.values() for i in group)
            else:
                listed.update((q, state, i["id"]) for i in infos or [])
    assert listed == Counter((c.queue, py[c.name]["state"], c.id) for c in cases)
    for c in cases:
        (entry,) = [i for i in _go_lists_where(out["lists"], py[c.name]) if i["id"] == c.id]
        _assert_same(c, py[c.name], go_info(entry))

    # Go's queue statistics and group sizes count the same tasks.
    for q in out["queues"]:
        states = Counter(py[c.name]["state"] for c in cases if c.queue == q)
        stats = out["stats"][q]
        for state in ("pending", "scheduled", "aggregating", "active", "retry", "archived"):
            assert stats[state] == states[state], (q, state)
        groups = Counter(
            py[c.name]["group"]
            for c in cases
            if c.queue == q and py[c.name]["state"] == "aggregating"
        )
        assert out["groups"][q] == dict(groups)
        assert stats["groups"] == len(groups)
        assert stats["size"] == sum(states.values())


def test_go_inspector_reads_python_tasks(make_client, redis_url, go_redis):
    check_go_sees_python_tasks(make_client(redis_url), go_redis)


@pytest.mark.cluster
def test_go_inspector_reads_python_tasks_on_cluster(make_client, cluster, go_cluster):
    check_go_sees_python_tasks(make_client(cluster.url), go_cluster)


def test_go_inspector_unknown_task_id(make_client, redis_url, go_redis):
    make_client(redis_url).enqueue(Case("x", "x").py_task())
    out = gopeer.run_go_json(
        "peer_inspect", *go_redis, input={"get": [{"queue": "default", "id": "nope"}]}
    )
    assert out["get"] == [{"info": None, "error": "asynq: task not found"}]
