"""The JSON API under /api, through httpx.ASGITransport, checked against raw Redis."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
import redis

import asynq
from asynq._base import keys
from tests.web._seed import Seeded


async def test_queues_match_redis(web: httpx.AsyncClient, seeded: Seeded, r: redis.Redis) -> None:
    resp = await web.get("/api/queues")
    assert resp.status_code == 200
    [q] = resp.json()["queues"]
    assert q["queue"] == "default"
    assert q["pending"] == r.llen(keys.pending_key("default")) == 1
    assert q["active"] == r.llen(keys.active_key("default")) == 1
    for state in ("scheduled", "retry", "archived", "completed"):
        assert q[state] == r.zcard(getattr(keys, f"{state}_key")("default")) == 1
    assert (q["aggregating"], q["size"], q["groups"]) == (1, 7, 1)
    assert (q["processed"], q["failed"], q["succeeded"]) == (10, 3, 7)
    assert (q["processed_total"], q["failed_total"]) == (50, 7)
    assert q["memory_usage_bytes"] > 0 and q["paused"] is False


async def test_queue_detail_and_stats(web: httpx.AsyncClient, seeded: Seeded) -> None:
    body = (await web.get("/api/queues/default")).json()
    assert body["current"]["queue"] == "default"
    assert len(body["history"]) == 10
    assert (body["history"][0]["processed"], body["history"][0]["failed"]) == (10, 3)
    stats = (await web.get("/api/queue_stats?days=7")).json()["stats"]
    assert len(stats["default"]) == 7
    assert (await web.get("/api/queues/nope")).status_code == 404


@pytest.mark.parametrize(
    "state", ["active", "pending", "scheduled", "retry", "archived", "completed"]
)
async def test_task_lists(web: httpx.AsyncClient, seeded: Seeded, state: str) -> None:
    body = (await web.get(f"/api/queues/default/{state}_tasks")).json()
    [task] = body["tasks"]
    assert (task["id"], task["state"]) == (seeded.ids[state], state)
    assert body["stats"]["queue"] == "default"
    if state == "active":  # joined with the server's worker info, as Asynqmon does
        assert task["start_time"] and task["start_time"] != "-"
    if state == "retry":
        assert (task["error_message"], task["retried"], task["max_retry"]) == ("boom", 1, 25)
    if state == "completed":
        assert task["result"] == '{"ok": true}'


async def test_task_list_paging_and_errors(web: httpx.AsyncClient, redis_url: str) -> None:
    with asynq.Client(redis_url) as c:
        ids = [c.enqueue(asynq.Task("t")).id for _ in range(5)]
    page2 = (await web.get("/api/queues/default/pending_tasks?page=2&size=2")).json()["tasks"]
    assert [t["id"] for t in page2] == ids[2:4]
    assert (await web.get("/api/queues/default/bogus_tasks")).status_code == 404
    assert (await web.get("/api/queues/nope/pending_tasks")).status_code == 404
    assert (await web.get("/api/queues/default/pending_tasks?page=x")).status_code == 400


async def test_groups_and_aggregating(web: httpx.AsyncClient, seeded: Seeded) -> None:
    body = (await web.get("/api/queues/default/groups")).json()
    assert body["groups"] == [{"group": "grp", "size": 1}]
    tasks = (await web.get("/api/queues/default/groups/grp/aggregating_tasks")).json()["tasks"]
    assert [t["id"] for t in tasks] == [seeded.ids["aggregating"]]


async def test_task_detail(web: httpx.AsyncClient, seeded: Seeded, redis_url: str) -> None:
    task = (await web.get(f"/api/queues/default/tasks/{seeded.ids['completed']}")).json()
    assert (task["state"], task["retention_seconds"], task["result_encoding"]) == (
        "completed",
        3600,
        "utf-8",
    )
    with asynq.Client(redis_url) as c:
        binary = c.enqueue(asynq.Task("bin", b"\xff\x00")).id
    task = (await web.get(f"/api/queues/default/tasks/{binary}")).json()
    assert (task["payload"], task["payload_encoding"]) == (
        base64.b64encode(b"\xff\x00").decode(),
        "base64",
    )
    assert (await web.get("/api/queues/default/tasks/nope")).status_code == 404


async def test_servers_and_schedulers(web: httpx.AsyncClient, seeded: Seeded) -> None:
    [srv] = (await web.get("/api/servers")).json()["servers"]
    assert (srv["id"], srv["host"], srv["pid"]) == (seeded.server_id, "worker-1", 99)
    assert srv["queue_priorities"] == {"default": 1}
    assert srv["active_workers"][0]["task_id"] == seeded.ids["active"]
    [entry] = (await web.get("/api/scheduler_entries")).json()["entries"]
    assert (entry["id"], entry["spec"], entry["task_type"]) == (
        seeded.entry_id,
        "@every 1m",
        "report",
    )
    assert entry["options"] == ['Queue("low")'] and entry["prev_enqueue_at"]
    events = (await web.get(f"/api/scheduler_entries/{seeded.entry_id}/enqueue_events")).json()
    assert [e["task_id"] for e in events["events"]] == ["event-task-1"]


async def test_redis_info(web: httpx.AsyncClient, r: redis.Redis) -> None:
    body = (await web.get("/api/redis_info")).json()
    assert body["cluster"] is False
    assert body["info"]["redis_version"] == r.info()["redis_version"]


@pytest.mark.cluster
async def test_redis_info_on_a_cluster(make_web: Any, cluster: Any) -> None:
    with asynq.Client(cluster.url) as c:
        c.enqueue(asynq.Task("t"), queue="critical")
    web = await make_web(inspector_or_redis=cluster.url)
    body = (await web.get("/api/redis_info")).json()
    assert body["cluster"] is True and body["info"]["cluster_state"] == "ok"
    [loc] = body["queue_locations"]
    assert loc["queue"] == "critical" and loc["nodes"]
    page = await web.get("/redis")
    assert "Queue locations" in page.text and "critical" in page.text


async def test_single_task_actions(
    web: httpx.AsyncClient, seeded: Seeded, r: redis.Redis, redis_url: str
) -> None:
    ids = seeded.ids
    resp = await web.post(f"/api/queues/default/scheduled_tasks/{ids['scheduled']}:run")
    assert resp.status_code == 204
    assert r.hget(keys.task_key("default", ids["scheduled"]), "state") == b"pending"
    resp = await web.post(f"/api/queues/default/pending_tasks/{ids['pending']}:archive")
    assert resp.status_code == 204
    assert r.zscore(keys.archived_key("default"), ids["pending"]) is not None
    resp = await web.delete(f"/api/queues/default/archived_tasks/{ids['archived']}")
    assert resp.status_code == 204
    assert not r.exists(keys.task_key("default", ids["archived"]))
    resp = await web.post(f"/api/queues/default/retry_tasks/{ids['retry']}:delete")
    assert resp.status_code == 204 and not r.exists(keys.task_key("default", ids["retry"]))
    agg = f"/api/queues/default/groups/grp/aggregating_tasks/{ids['aggregating']}:run"
    assert (await web.post(agg)).status_code == 204
    assert r.hget(keys.task_key("default", ids["aggregating"]), "state") == b"pending"
    # Not allowed for the state, and unknown task:
    assert (
        await web.post(f"/api/queues/default/pending_tasks/{ids['pending']}:run")
    ).status_code == 400
    assert (await web.post("/api/queues/default/retry_tasks/nope:run")).status_code == 404


async def test_cancel_publishes(web: httpx.AsyncClient, seeded: Seeded, redis_url: str) -> None:
    sub = redis.Redis.from_url(redis_url).pubsub()
    sub.subscribe("asynq:cancel")
    sub.get_message(timeout=2)
    resp = await web.post(f"/api/queues/default/active_tasks/{seeded.ids['active']}:cancel")
    assert resp.status_code == 204
    assert sub.get_message(timeout=2)["data"] == seeded.ids["active"].encode()
    resp = await web.post("/api/queues/default/active_tasks:cancel_all")
    assert (resp.status_code, resp.content) == (204, b"")
    assert sub.get_message(timeout=2)["data"] == seeded.ids["active"].encode()
    resp = await web.post(
        "/api/queues/default/active_tasks:batch_cancel", json={"task_ids": ["a1", "a2"]}
    )
    assert resp.json() == {"canceled_ids": ["a1", "a2"], "error_ids": []}
    sub.close()


async def test_batch_and_all_actions(
    web: httpx.AsyncClient, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as c:
        ids = [c.enqueue_in(asynq.Task("s"), 3600).id for _ in range(4)]
    resp = await web.post(
        "/api/queues/default/scheduled_tasks:batch_archive", json={"task_ids": [*ids[:2], "nope"]}
    )
    assert resp.json() == {"archived_ids": ids[:2], "error_ids": ["nope"]}
    assert r.zcard(keys.archived_key("default")) == 2
    resp = await web.post(
        "/api/queues/default/archived_tasks:batch_run", json={"task_ids": ids[:1]}
    )
    assert resp.json() == {"pending_ids": ids[:1], "error_ids": []}
    resp = await web.post("/api/queues/default/scheduled_tasks:run_all")
    assert resp.json() == {"scheduled": 2}  # Asynqmon's key, for every run_all
    assert r.llen(keys.pending_key("default")) == 3
    resp = await web.delete("/api/queues/default/archived_tasks:delete_all")
    assert resp.json() == {"deleted": 1}
    resp = await web.post("/api/queues/default/pending_tasks:batch_delete", json={"task_ids": ids})
    assert resp.json() == {"deleted_ids": [ids[0], ids[2], ids[3]], "failed_ids": [ids[1]]}
    assert (await web.post("/api/queues/default/pending_tasks:run_all")).status_code == 400
    assert (await web.post("/api/queues/default/pending_tasks:explode")).status_code == 404
    bad = await web.post("/api/queues/default/pending_tasks:batch_delete", json={"task_ids": 3})
    assert bad.status_code == 400


async def test_group_bulk_actions(web: httpx.AsyncClient, redis_url: str, r: redis.Redis) -> None:
    with asynq.Client(redis_url) as c:
        for _ in range(3):
            c.add_to_group(asynq.Task("g"), "grp")
    resp = await web.post("/api/queues/default/groups/grp/aggregating_tasks:archive_all")
    assert resp.json() == {"archived": 3}
    assert r.zcard(keys.archived_key("default")) == 3


async def test_queue_pause_resume_delete(
    web: httpx.AsyncClient, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("t"))
    assert (await web.post("/api/queues/default:pause")).status_code == 204
    assert r.exists(keys.paused_key("default"))
    assert (await web.post("/api/queues/default:pause")).status_code == 409
    assert (await web.post("/api/queues/default:resume")).status_code == 204
    assert not r.exists(keys.paused_key("default"))
    resp = await web.delete("/api/queues/default")
    assert resp.status_code == 409 and "not empty" in resp.json()["error"]
    assert (await web.delete("/api/queues/default?force=true")).status_code == 204
    assert not r.sismember(keys.ALL_QUEUES, "default")
    assert (await web.delete("/api/queues/default")).status_code == 404
