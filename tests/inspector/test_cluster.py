"""The Inspector on a 3-master Redis Cluster: slots and nodes, and core calls whose keys span
several slots (one queue per slot, global keys elsewhere), compared with Go's Inspector."""

from __future__ import annotations

from typing import Any

import pytest
from redis.cluster import ClusterNode as RedisClusterNode
from redis.cluster import RedisCluster
from redis.crc import key_slot

import asynq
from asynq._base import keys
from tests.helpers import seed
from tests.inspector._calls import compare_reads, read_calls
from tests.inspector._scenario import python_scenario
from tests.inspector._support import from_go, go_call, now_sec, without_now

pytestmark = [pytest.mark.cluster, pytest.mark.interop]

QUEUES = ("default", "critical", "low")  # three queues that hash to three different slots


@pytest.fixture
def rc(cluster: Any) -> Any:
    client = RedisCluster(startup_nodes=[RedisClusterNode(h, p) for h, p in cluster.addrs])
    yield client
    client.close()


def go_answer(cluster: Any, op: str, **args: Any) -> Any:
    answer = go_call(cluster, op, **args)
    assert "err" not in answer, answer
    return from_go(op, answer.get("ok"))


def test_queues_live_in_different_slots(make_inspector, cluster, rc):
    insp = make_inspector(cluster.url)
    slots = [insp.cluster_key_slot(q) for q in QUEUES]
    assert len(set(slots)) == 3
    for q, slot in zip(QUEUES, slots, strict=True):
        assert slot == rc.keyslot(keys.pending_key(q))
        assert slot == go_answer(cluster, "ClusterKeySlot", queue=q)
        nodes = insp.cluster_nodes(q)
        assert nodes == go_answer(cluster, "ClusterNodes", queue=q)
        owner = rc.get_node_from_key(keys.pending_key(q))
        assert [n.addr for n in nodes] == [f"{owner.host}:{owner.port}"]


def test_core_calls_across_slots_match_go(make_inspector, cluster, rc):
    now = now_sec()
    scenarios = [python_scenario(rc, cluster.url, now + 0.5, queue=q) for q in QUEUES]
    insp = make_inspector(cluster.url)
    assert insp.queues() == sorted(QUEUES)
    for sc in scenarios:
        info = insp.get_queue_info(sc.queue)
        assert (info.pending, info.active, info.aggregating, info.processed) == (6, 3, 4, 7)
        assert insp.list_pending_tasks(sc.queue)[0].id == sc.pending[0]
        compare_reads(cluster, insp, read_calls(sc.queue, sc.all_ids(), list(sc.groups)))

    sc = scenarios[1]
    pending = keys.pending_key(sc.queue)
    insp.run_task(sc.queue, sc.scheduled[0])
    assert rc.lindex(pending, 0) == sc.scheduled[0].encode()
    assert "err" not in go_call(cluster, "RunTask", queue=sc.queue, id=sc.scheduled[1])
    assert rc.lrange(pending, 0, 1) == [t.encode() for t in reversed(sc.scheduled[:2])]
    for tid in sc.scheduled[:2]:
        go = go_answer(cluster, "GetTaskInfo", queue=sc.queue, id=tid)
        assert without_now(insp.get_task_info(sc.queue, tid)) == without_now(go)
    assert insp.archive_all_pending_tasks(sc.queue) == 8
    assert insp.delete_all_archived_tasks(sc.queue) == 10
    assert insp.run_all_aggregating_tasks(sc.queue, "g1") == 3
    assert rc.smembers(keys.groups_key(sc.queue)) == {b"g2"}


def test_servers_and_schedulers_on_a_cluster(make_inspector, cluster, rc):
    now = now_sec()
    for host in ("a", "b", "c"):
        info = seed.server_info(host=host, queues={"default": 1})
        msg = seed.message(queue="default")
        worker = seed.worker_info(info, msg, started=now - 1, deadline=now + 60)
        seed.server(rc, info, [worker], expires_at=now + 10)
    entry = seed.scheduler_entry(options=['Queue("low")'])
    seed.scheduler(rc, "h:1:s", [entry], expires_at=now + 20)
    insp = make_inspector(cluster.url)
    servers = insp.servers()
    assert [s.host for s in servers] == ["a", "b", "c"]
    assert all(len(s.active_workers) == 1 for s in servers)
    assert servers == sorted(go_answer(cluster, "Servers"), key=lambda s: s.host)
    assert insp.scheduler_entries() == go_answer(cluster, "SchedulerEntries")


def test_redis_info_on_a_cluster_is_cluster_info(make_inspector, cluster):
    info = make_inspector(cluster.url).redis_info()
    assert info["cluster_state"] == "ok"
    assert info["cluster_size"] == "3"


def test_cluster_nodes_on_standalone_redis_fail(insp):
    with pytest.raises(asynq.BrokerError):
        insp.cluster_nodes("default")
    # The slot is Redis Cluster's hash of the queue's hash tag, whatever the deployment.
    assert insp.cluster_key_slot("default") == key_slot(b"default") == 5718
    assert insp.cluster_key_slot("critical") == key_slot(b"asynq:{critical}:t:anything")
