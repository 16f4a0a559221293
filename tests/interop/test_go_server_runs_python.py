"""A Go ``asynq.Server`` processes what Python enqueues, exactly once, and cleans up as Go does.

Python enqueues pending, scheduled, unique, retained and grouped tasks; ``peer_server`` (a Go
server with a ``GroupAggregator``, a 200 ms forwarder and a 1 s group grace period) prints one
JSON line per handled task and per aggregation. Afterwards Redis must hold exactly what Go's
done/complete/aggregate scripts leave behind.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

import asynq
from asynq._base import keys
from tests.helpers import gopeer

pytestmark = pytest.mark.interop

WAIT_SECONDS = 30


def events(proc: gopeer.GoProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.read_stdout().splitlines() if line.strip()]


def wait_for_processed(proc: gopeer.GoProcess, count: int) -> list[dict[str, Any]]:
    """Poll the server's stdout until ``count`` tasks were handled; fail with its output."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        done = [e for e in events(proc) if e["event"] == "processed"]
        if len(done) >= count or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert len(done) >= count, f"Go server handled {len(done)}/{count} tasks\n{proc.output()}"
    return done


def stop(proc: gopeer.GoProcess) -> list[dict[str, Any]]:
    """Shut the Go server down gracefully; all its events."""
    code = proc.stop()
    assert code == 0, proc.output()
    out = events(proc)
    assert out[-1] == {"event": "stopped"}, proc.output()
    return out


def decoded(e: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    return e["type"], base64.b64decode(e["payload"] or ""), e["headers"] or {}


def test_go_server_processes_python_tasks(make_client, redis_url, r, go_redis, go_server):
    client = make_client(redis_url)
    plain = [
        client.enqueue(asynq.Task("email:send", b'{"to":"a@b.c"}')),
        client.enqueue(
            asynq.Task("report", b"r1", headers={"trace": "abc", "tenant": "acme"}),
            queue="critical",
            max_retry=3,
            timeout=20,
        ),
        client.enqueue(asynq.Task("nil:payload", None), deadline=time.time() + 600),
        client.enqueue_in(asynq.Task("later", b"l"), 2),
        client.enqueue_unique(asynq.Task("once", b"o"), 60),
        # A scheduled task with a group is forwarded to pending, not aggregated
        # (docs/compatibility.md#quirk-scheduled-group-task-is-not-aggregated).
        client.enqueue(asynq.Task("batch:late", b"q3"), group="g1", process_in=1),
    ]
    kept = client.enqueue(asynq.Task("keep", b"k"), retention=600, queue="critical")
    members = [
        client.add_to_group(asynq.Task("batch:item", b"1"), "g1"),
        client.add_to_group(asynq.Task("batch:item", b"2", headers={"n": "2"}), "g1"),
        client.add_to_group(asynq.Task("batch:item", b"3"), "g1", unique=60),
    ]
    assert [i.state for i in members] == [asynq.TaskState.AGGREGATING] * 3

    proc = go_server(*go_redis, "-queues", "default=1,critical=2")
    wait_for_processed(proc, len(plain) + 2)  # + the retained task + one aggregated task
    out = stop(proc)

    handled = [e for e in out if e["event"] == "processed"]
    assert Counter(e["id"] for e in handled).most_common(1)[0][1] == 1, "a task ran twice"
    by_id = {e["id"]: e for e in handled}
    for info in [*plain, kept]:
        e = by_id.pop(info.id)
        assert decoded(e) == (info.type, info.payload, dict(info.headers))
        assert (e["queue"], e["max_retry"], e["retried"]) == (info.queue, info.max_retry, 0)

    # The group became one aggregated task holding the three members (and no other task).
    (agg,) = [e for e in out if e["event"] == "aggregated"]
    assert agg["group"] == "g1"
    got = sorted(decoded(t) for t in agg["tasks"])
    assert got == sorted((i.type, i.payload, dict(i.headers)) for i in members)
    (aggregated,) = by_id.values()
    assert aggregated["type"] == "aggregated:g1"
    assert sorted(base64.b64decode(aggregated["payload"]).split(b"|")) == [b"1", b"2", b"3"]

    # Redis is left as Go leaves it.
    for info in [*plain, *members]:
        assert not r.exists(keys.task_key(info.queue, info.id)), info.type
    assert r.hget(keys.task_key("critical", kept.id), "state") == b"completed"
    assert r.zscore(keys.completed_key("critical"), kept.id) is not None
    for q in ("default", "critical"):
        for key in (keys.pending_key(q), keys.active_key(q), keys.scheduled_key(q)):
            assert r.exists(key) == 0, key
        assert r.zcard(keys.lease_key(q)) == 0
        assert not r.exists(keys.failed_total_key(q))
    assert r.get(keys.processed_total_key("default")) == b"6"  # 5 plain + aggregated
    assert r.get(keys.processed_total_key("critical")) == b"2"
    daily = keys.processed_key("default", datetime.now(UTC).timestamp())
    assert r.get(daily) == b"6" and r.ttl(daily) > 89 * 86400
    assert r.keys("asynq:{default}:unique:*") == [
        # Success releases the lock of a unique task; aggregation does not
        # (docs/compatibility.md#quirk-group-unique-lock).
        keys.unique_key("default", "batch:item", b"3").encode()
    ]
    assert not r.exists(keys.groups_key("default"), keys.group_key("default", "g1"))
    assert r.zcard(keys.all_aggregation_sets("default")) == 0

    # Go's Inspector agrees: the counters, and the retained task as completed.
    seen = gopeer.run_go_json("peer_inspect", *go_redis, input={"get": []})
    assert (seen["stats"]["default"]["processed"], seen["stats"]["critical"]["processed"]) == (6, 2)
    assert seen["stats"]["default"]["size"] == 0
    (done,) = seen["lists"]["critical"]["completed"]
    assert (done["id"], done["state"], done["retention"]) == (kept.id, "completed", 600)
    assert abs(done["completed_at"] - time.time()) < WAIT_SECONDS


@pytest.mark.cluster
def test_go_server_processes_python_tasks_on_cluster(make_client, cluster, go_cluster, go_server):
    client = make_client(cluster.url)
    infos = [
        client.enqueue(asynq.Task("c:one", b"1", headers={"k": "v"})),
        client.enqueue(asynq.Task("c:two", b"2"), queue="critical", unique=60),
        client.enqueue_in(asynq.Task("c:three", b"3"), 1, queue="critical"),
    ]
    members = [client.add_to_group(asynq.Task("c:item", b), "cg") for b in (b"a", b"b")]

    proc = go_server(*go_cluster, "-queues", "default=1,critical=1")
    wait_for_processed(proc, len(infos) + 1)
    out = stop(proc)

    by_id = {e["id"]: e for e in out if e["event"] == "processed"}
    for info in infos:
        assert decoded(by_id.pop(info.id)) == (info.type, info.payload, dict(info.headers))
    (aggregated,) = by_id.values()
    assert aggregated["type"] == "aggregated:cg"
    (agg,) = [e for e in out if e["event"] == "aggregated"]
    assert sorted(decoded(t) for t in agg["tasks"]) == [
        ("c:item", b"a", {}),
        ("c:item", b"b", {}),
    ]
    assert len(members) == 2
