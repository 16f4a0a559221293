"""Every endpoint shared with Asynqmon v0.7.2 answers with (at least) Asynqmon's JSON keys.

The expected shapes below are written down from reading Asynqmon v0.7.2's handlers (the
``toXxx`` conversion functions and the ``json`` tags of the types they fill), so a script or a UI
written against Asynqmon's API finds every key it reads here, with the same JSON type. The
dashboard may add keys (``payload_encoding``, ``headers``, ...); it must not drop or retype one.

A shape is a ``dict`` (an object: key -> shape), a one-element ``list`` (an array whose
elements have that shape), a Python type (``str``, ``int``, ``bool``, ``dict``) or ``ANY``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import asynq
from tests.web._seed import Seeded

ANY = object()

QUEUE = {
    "queue": str,
    "memory_usage_bytes": int,
    "size": int,
    "groups": int,
    "latency_msec": int,
    "display_latency": str,
    "active": int,
    "pending": int,
    "aggregating": int,
    "scheduled": int,
    "retry": int,
    "archived": int,
    "completed": int,
    "processed": int,
    "succeeded": int,
    "failed": int,
    "paused": bool,
    "timestamp": str,
}
DAILY = {"queue": str, "processed": int, "succeeded": int, "failed": int, "date": str}
GROUP = {"group": str, "size": int}
BASE_TASK = {
    "id": str,
    "type": str,
    "payload": str,
    "queue": str,
    "max_retry": int,
    "retried": int,
    "error_message": str,
}
#: The element of ``tasks`` in each ``<state>_tasks`` list.
LISTED_TASK = {
    "active": {**BASE_TASK, "start_time": str, "deadline": str, "is_orphaned": bool},
    "pending": BASE_TASK,
    "aggregating": {**BASE_TASK, "group": str},
    "scheduled": {**BASE_TASK, "next_process_at": str},
    "retry": {**BASE_TASK, "next_process_at": str},
    "archived": {**BASE_TASK, "last_failed_at": str},
    "completed": {**BASE_TASK, "completed_at": str, "result": str, "ttl_seconds": int},
}
#: ``GET /api/queues/{q}/tasks/{id}``.
TASK_DETAIL = {
    **BASE_TASK,
    "state": str,
    "last_failed_at": str,
    "timeout_seconds": int,
    "deadline": str,
    "next_process_at": str,
    "completed_at": str,
    "result": ANY,  # Asynqmon formats a missing result as ""; the dashboard sends null
    "ttl_seconds": int,
}
WORKER = {"task_id": str, "queue": str, "task_type": str, "task_payload": str, "start_time": str}
SERVER = {
    "id": str,
    "host": str,
    "pid": int,
    "concurrency": int,
    "queue_priorities": dict,
    "strict_priority_enabled": bool,
    "start_time": str,
    "status": str,
    "active_workers": [WORKER],
}
ENTRY = {
    "id": str,
    "spec": str,
    "task_type": str,
    "task_payload": str,
    "options": [str],
    "next_enqueue_at": str,
    "prev_enqueue_at": str,  # omitted by both before the first enqueue
}
EVENT = {"task_id": str, "enqueued_at": str}
#: Asynqmon also sends ``address`` and ``raw_cluster_nodes``: the Inspector this dashboard reads
#: through exposes neither the connection's address nor raw CLUSTER NODES text.
REDIS_INFO = {"info": dict, "raw_info": str, "cluster": bool, "queue_locations": ANY}
REDIS_CLUSTER_LOCATION = {"queue": str, "keyslot": int, "nodes": [str]}


def missing(shape: Any, value: Any, where: str = "$") -> list[str]:
    """Where ``value`` lacks a key of ``shape`` or has another JSON type (empty: it conforms)."""
    if shape is ANY:
        return []
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        out = []
        for key, sub in shape.items():
            if key not in value:
                out.append(f"{where}.{key}: missing")
            else:
                out += missing(sub, value[key], f"{where}.{key}")
        return out
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return [f"{where}: expected a non-empty array, got {value!r}"]
        return [m for i, v in enumerate(value) for m in missing(shape[0], v, f"{where}[{i}]")]
    ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
    return [] if ok else [f"{where}: expected {shape.__name__}, got {value!r}"]


def test_missing_reports_absent_and_retyped_keys() -> None:
    assert missing({"a": int, "b": [str]}, {"a": 1, "b": ["x"], "extra": 0}) == []
    assert missing({"a": int}, {}) == ["$.a: missing"]
    assert missing({"a": int}, {"a": True}) == ["$.a: expected int, got True"]
    assert missing({"b": [str]}, {"b": [1]}) == ["$.b[0]: expected str, got 1"]


async def _get(web: httpx.AsyncClient, url: str) -> Any:
    resp = await web.get(url)
    assert resp.status_code == 200, (url, resp.text)
    return resp.json()


async def test_read_endpoints_have_asynqmons_keys(web: httpx.AsyncClient, seeded: Seeded) -> None:
    q = "/api/queues/default"
    expected: dict[str, Any] = {
        "/api/queues": {"queues": [QUEUE]},
        q: {"current": QUEUE, "history": [DAILY]},
        "/api/queue_stats": {"stats": {"default": [DAILY]}},
        f"{q}/groups": {"stats": QUEUE, "groups": [GROUP]},
        f"{q}/groups/grp/aggregating_tasks": {
            "tasks": [LISTED_TASK["aggregating"]],
            "stats": QUEUE,
            "groups": [GROUP],
        },
        "/api/servers": {"servers": [SERVER]},
        "/api/scheduler_entries": {"entries": [ENTRY]},
        f"/api/scheduler_entries/{seeded.entry_id}/enqueue_events": {"events": [EVENT]},
        "/api/redis_info": REDIS_INFO,
    }
    for state in ("active", "pending", "scheduled", "retry", "archived", "completed"):
        expected[f"{q}/{state}_tasks"] = {"tasks": [LISTED_TASK[state]], "stats": QUEUE}
    for task_id in seeded.ids.values():
        expected[f"{q}/tasks/{task_id}"] = TASK_DETAIL | {"state": str}
    problems = [
        p for url, shape in expected.items() for p in missing(shape, await _get(web, url), url)
    ]
    assert problems == []


async def test_ttl_seconds_counts_down_the_retention(
    web: httpx.AsyncClient, seeded: Seeded
) -> None:
    [done] = (await _get(web, "/api/queues/default/completed_tasks"))["tasks"]
    assert 3590 <= done["ttl_seconds"] <= 3600  # retention 3600 s, completed just now
    [pending] = (await _get(web, "/api/queues/default/pending_tasks"))["tasks"]
    assert pending["ttl_seconds"] == 0


async def test_aggregating_tasks_list_the_queues_groups(
    web: httpx.AsyncClient, redis_url: str
) -> None:
    with asynq.Client(redis_url) as c:
        c.add_to_group(asynq.Task("g"), "alpha")
        c.add_to_group(asynq.Task("g"), "alpha")
        c.add_to_group(asynq.Task("g"), "beta")
    body = await _get(web, "/api/queues/default/groups/alpha/aggregating_tasks")
    assert len(body["tasks"]) == 2
    assert sorted(body["groups"], key=lambda g: g["group"]) == [
        {"group": "alpha", "size": 2},
        {"group": "beta", "size": 1},
    ]


async def test_mutation_answers_have_asynqmons_keys(
    web: httpx.AsyncClient, seeded: Seeded, redis_url: str
) -> None:
    with asynq.Client(redis_url) as c:
        for _ in range(2):
            c.enqueue_in(asynq.Task("s"), 3600)
            c.add_to_group(asynq.Task("g"), "grp")
        c.enqueue(asynq.Task("t"), queue="spare")
    q = "/api/queues/default"
    agg = f"{q}/groups/grp/aggregating_tasks"
    ids = {"task_ids": ["nope"]}
    bodies: list[tuple[str, str, dict[str, Any] | None, Any]] = [
        ("POST", f"{q}/pending_tasks:batch_delete", ids, {"deleted_ids": ANY, "failed_ids": [str]}),
        ("POST", f"{q}/retry_tasks:batch_run", ids, {"pending_ids": ANY, "error_ids": [str]}),
        ("POST", f"{agg}:batch_archive", ids, {"archived_ids": ANY, "error_ids": [str]}),
        ("POST", f"{q}/active_tasks:batch_cancel", ids, {"canceled_ids": [str], "error_ids": ANY}),
        ("POST", f"{q}/scheduled_tasks:run_all", None, {"scheduled": int}),
        ("POST", f"{agg}:archive_all", None, {"archived": int}),
        ("DELETE", f"{q}/archived_tasks:delete_all", None, {"deleted": int}),
    ]
    problems = []
    for method, url, body, shape in bodies:
        resp = await web.request(method, url, json=body)
        assert resp.status_code == 200, (url, resp.text)
        problems += missing(shape, resp.json(), url)
    assert problems == []
    # Asynqmon answers these with 204 and no body:
    for method, url in [
        ("POST", f"{q}/active_tasks:cancel_all"),
        ("POST", f"{q}/active_tasks/{seeded.ids['active']}:cancel"),
        ("POST", f"{q}/retry_tasks/{seeded.ids['retry']}:archive"),
        ("DELETE", f"{q}/completed_tasks/{seeded.ids['completed']}"),
        ("POST", f"{q}:pause"),
        ("POST", f"{q}:resume"),
        ("DELETE", "/api/queues/spare?force=true"),
    ]:
        resp = await web.request(method, url)
        assert (resp.status_code, resp.content) == (204, b""), (method, url)


@pytest.mark.cluster
async def test_cluster_queue_locations_name_node_addresses(make_web: Any, cluster: Any) -> None:
    with asynq.Client(cluster.url) as c:
        c.enqueue(asynq.Task("t"), queue="critical")
    web = await make_web(inspector_or_redis=cluster.url)
    body = await _get(web, "/api/redis_info")
    shape = REDIS_INFO | {"queue_locations": [REDIS_CLUSTER_LOCATION]}
    assert missing(shape, body) == []
    [addr] = body["queue_locations"][0]["nodes"][:1]
    assert ":" in addr
