"""Python decodes every task Go's ``Client`` enqueues, whatever its options.

Go (``peer_enqueue``) enqueues the option table; Python reads the raw task hash, decodes
``msg`` with ``asynq._base.codec.decode_message`` and builds ``TaskInfo.from_message``: the
fields must equal both Go's own returned TaskInfo and what Go's option rules prescribe.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from asynq import TaskInfo, TaskState
from asynq._base import keys
from asynq._base.codec import decode_message
from asynq.inspector import Inspector
from tests.helpers import gopeer
from tests.interop.cases import Case, go_info, info_json, table, without

pytestmark = pytest.mark.interop


def read_task(r: Any, queue: str, task_id: str) -> TaskInfo:
    """Build a TaskInfo from Redis alone, the way an inspector would."""
    fields = r.hgetall(keys.task_key(queue, task_id))
    assert fields, f"no hash for {queue}/{task_id}"
    msg = decode_message(fields[b"msg"])
    state = TaskState(fields[b"state"].decode())
    next_at = None
    if state is TaskState.SCHEDULED:
        next_at = datetime.fromtimestamp(r.zscore(keys.scheduled_key(queue), task_id), UTC)
    elif state is TaskState.PENDING:
        next_at = datetime.fromtimestamp(int(fields[b"pending_since"]) / 1e9, UTC)
    return TaskInfo.from_message(msg, state, next_process_at=next_at)


def check_python_decodes_go_tasks(r: Any, go_flags: list[str], url: str) -> None:
    now = int(time.time())
    cases: list[Case] = table(now)
    go_out = gopeer.run_go_json("peer_enqueue", *go_flags, input=[c.go_spec() for c in cases])
    with Inspector(url) as inspector:
        for c, out in zip(cases, go_out, strict=True):
            assert out["error"] == "", (c.name, out["error"])
            go = go_info(out["info"])
            py = info_json(read_task(r, c.queue, c.id))
            assert without(py, "next_process_at") == without(go, "next_process_at"), c.name
            assert without(py, "next_process_at", "is_orphaned") == c.expected_fields(now), c.name
            if py["state"] == "aggregating":
                assert py["next_process_at"] is go["next_process_at"] is None
            else:
                # Go reports "now" for a pending task; pending_since is that instant in ns.
                assert abs(py["next_process_at"] - go["next_process_at"]) <= 1, c.name

            # Python's Inspector reads it the same (pending: "now" of the inspection, as Go).
            seen = info_json(inspector.get_task_info(c.queue, c.id))
            assert without(seen, "next_process_at") == without(go, "next_process_at"), c.name
            if py["state"] == "pending":
                assert abs(seen["next_process_at"] - time.time()) <= 2, c.name
            else:
                assert seen["next_process_at"] == py["next_process_at"], c.name


def test_python_decodes_go_enqueued_tasks(r, redis_url, go_redis):
    check_python_decodes_go_tasks(r, go_redis, redis_url)


@pytest.mark.cluster
def test_python_decodes_go_enqueued_tasks_on_cluster(cluster, go_cluster):
    rc = RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in cluster.addrs])
    try:
        check_python_decodes_go_tasks(rc, go_cluster, cluster.url)
    finally:
        rc.close()


def test_python_decodes_go_unique_and_group_bookkeeping(r: redis.Redis, go_redis):
    """The side keys Go writes next to the hash name the same task Python decodes."""
    now = int(time.time())
    by_name = {c.name: c for c in table(now)}
    chosen = [by_name[n] for n in ("unique", "unique-scheduled", "group-unique", "group")]
    gopeer.run_go_json("peer_enqueue", *go_redis, input=[c.go_spec() for c in chosen])
    unique, sched, grouped, group = chosen

    msg = decode_message(r.hget(keys.task_key(unique.queue, unique.id), "msg"))
    assert msg.unique_key == keys.unique_key(unique.queue, unique.type, unique.payload)
    assert r.get(msg.unique_key) == unique.id.encode()
    assert r.hget(keys.task_key(unique.queue, unique.id), "unique_key") == msg.unique_key.encode()

    msg = decode_message(r.hget(keys.task_key(sched.queue, sched.id), "msg"))
    assert r.zscore(keys.scheduled_key(sched.queue), sched.id) == sched.options["process_at"]
    # Go locks until process_at + ttl, truncated down (docs/compatibility.md#producer-writes).
    assert abs(r.ttl(msg.unique_key) - (sched.options["process_at"] + 600 - now)) <= 2

    msg = decode_message(r.hget(keys.task_key(grouped.queue, grouped.id), "msg"))
    assert msg.group_key == "g2"
    assert r.get(msg.unique_key) == grouped.id.encode()
    # The group-unique path stores no unique_key field in the hash
    # (docs/compatibility.md#quirk-group-unique-lock).
    assert r.hget(keys.task_key(grouped.queue, grouped.id), "unique_key") is None
    assert r.smembers(keys.groups_key(group.queue)) == {b"g1"}
    assert r.zrange(keys.group_key(group.queue, "g1"), 0, -1) == [group.id.encode()]
