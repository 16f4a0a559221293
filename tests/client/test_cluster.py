"""The producer against a 3-master Redis Cluster, with queues spread over every node.

Each queue's keys must land on the node owning the queue's ``{hash tag}`` slot; that is checked
with a plain connection to that one node, not through the cluster client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

import asynq
from asynq import DuplicateTaskError, EnqueueManyError, Task, TaskIDConflictError, TaskState
from asynq._base import keys
from tests.client.layout import message

pytestmark = pytest.mark.cluster


@pytest.fixture
def raw_cluster(cluster: Any) -> Iterator[RedisCluster]:
    host, port = cluster.addrs[0]
    client = RedisCluster(host=host, port=port)
    yield client
    client.close()


@pytest.fixture
def spread(raw_cluster: RedisCluster) -> Iterator[dict[str, redis.Redis]]:
    """One queue name per master → a plain client to the master that owns its slot."""
    owners: dict[str, str] = {}
    for i in range(200):
        qname = f"queue-{i}"
        node = raw_cluster.get_node_from_key(keys.pending_key(qname))
        if node.name not in owners.values():
            owners[qname] = node.name
        if len(owners) == 3:
            break
    assert len(owners) == 3
    nodes = {
        q: redis.Redis(host=name.rsplit(":", 1)[0], port=int(name.rsplit(":", 1)[1]))
        for q, name in owners.items()
    }
    yield nodes
    for node in nodes.values():
        node.close()


def _hash(node: redis.Redis, qname: str, task_id: str) -> dict[str, bytes]:
    return {k.decode(): v for k, v in node.hgetall(keys.task_key(qname, task_id)).items()}


def test_every_placement_on_every_node(make_client, cluster, raw_cluster, spread) -> None:
    client = make_client(cluster.url)
    for qname, node in spread.items():
        pending = client.enqueue(Task("t", b"p"), queue=qname)
        unique = client.enqueue(Task("t", b"u"), queue=qname, unique=60)
        scheduled = client.enqueue(Task("t", b"s"), queue=qname, process_in=60)
        sched_unique = client.enqueue(Task("t", b"su"), queue=qname, process_in=60, unique=60)
        grouped = client.add_to_group(Task("t", b"g"), "grp", queue=qname)
        group_unique = client.add_to_group(Task("t", b"gu"), "grp", queue=qname, unique=60)

        assert node.lrange(keys.pending_key(qname), 0, -1) == [
            unique.id.encode(),
            pending.id.encode(),
        ]
        assert _hash(node, qname, pending.id)["state"] == b"pending"
        assert set(_hash(node, qname, unique.id)) == {
            "msg",
            "state",
            "pending_since",
            "unique_key",
        }
        assert node.get(keys.unique_key(qname, "t", b"u")) == unique.id.encode()
        assert set(node.zrange(keys.scheduled_key(qname), 0, -1)) == {
            scheduled.id.encode(),
            sched_unique.id.encode(),
        }
        assert node.get(keys.unique_key(qname, "t", b"su")) == sched_unique.id.encode()
        assert set(node.zrange(keys.group_key(qname, "grp"), 0, -1)) == {
            grouped.id.encode(),
            group_unique.id.encode(),
        }
        assert node.smembers(keys.groups_key(qname)) == {b"grp"}
        assert node.get(keys.unique_key(qname, "t", b"gu")) == group_unique.id.encode()
        assert message(_hash(node, qname, grouped.id)).queue == qname
    assert raw_cluster.smembers("asynq:queues") == {q.encode() for q in spread}


def test_errors_on_a_cluster(make_client, cluster, spread) -> None:
    client = make_client(cluster.url)
    for qname in spread:
        client.enqueue(Task("t", b"p"), queue=qname, unique=60, task_id="same")
        with pytest.raises(DuplicateTaskError):
            client.enqueue(Task("t", b"p"), queue=qname, unique=60)
        with pytest.raises(TaskIDConflictError):
            client.enqueue(Task("t", b"other"), queue=qname, task_id="same")


def test_enqueue_many_across_nodes(make_client, cluster, raw_cluster, spread) -> None:
    client = make_client(cluster.url)
    qnames = list(spread)
    client.enqueue(Task("x"), queue=qnames[1], task_id="taken")
    specs: list[Any] = []
    for qname in qnames:
        specs += [
            (Task("a"), {"queue": qname}),
            (Task("b"), {"queue": qname, "process_in": 60}),
            (Task("c"), {"queue": qname, "group": "g"}),
        ]
    specs.append((Task("x"), {"queue": qnames[1], "task_id": "taken"}))
    with pytest.raises(EnqueueManyError) as caught:
        client.enqueue_many(specs)
    errors, infos = caught.value.errors, caught.value.infos
    assert errors[:-1] == [None] * 9
    assert isinstance(errors[-1], TaskIDConflictError)
    for info in infos[:-1]:
        assert info is not None
        node = spread[info.queue]
        expected = {
            TaskState.PENDING: b"pending",
            TaskState.SCHEDULED: b"scheduled",
            TaskState.AGGREGATING: b"aggregating",
        }[info.state]
        assert _hash(node, info.queue, info.id)["state"] == expected
    assert raw_cluster.smembers("asynq:queues") == {q.encode() for q in qnames}


def test_publish_reaches_a_subscriber_on_any_node(make_client, cluster, spread) -> None:
    qname, owner = next(iter(spread.items()))
    others = [n for q, n in spread.items() if q != qname]
    pubsub = others[0].pubsub()  # subscribed on a node that does not own the queue
    pubsub.subscribe(keys.pending_key(qname))
    try:
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        info = make_client(cluster.url).enqueue(Task("t"), queue=qname)
        assert pubsub.get_message(timeout=5)["data"] == info.id.encode()
    finally:
        pubsub.close()
    assert owner.llen(keys.pending_key(qname)) == 1


def test_enqueue_many_after_script_flush_on_every_node(make_client, cluster, spread) -> None:
    client = make_client(cluster.url)
    client.enqueue(Task("warm-up"), queue=next(iter(spread)))
    for node in spread.values():
        node.script_flush()
    infos = client.enqueue_many([(Task("t"), {"queue": q, "unique": 60}) for q in spread])
    for info in infos:
        node = spread[info.queue]
        assert node.lindex(keys.pending_key(info.queue), 0) == info.id.encode()
        assert node.get(keys.unique_key(info.queue, "t", None)) == info.id.encode()


async def test_caller_owned_cluster_client(flavor, cluster, spread) -> None:
    host, port = cluster.addrs[0]
    qname, node = next(iter(spread.items()))
    if flavor == "sync":
        mine: Any = RedisCluster(host=host, port=port)
        client: Any = asynq.Client(mine)
        info = client.enqueue(Task("t"), queue=qname)
        client.close()
        assert mine.llen(keys.pending_key(qname)) == 1  # still usable
        mine.close()
    else:
        amine = AsyncRedisCluster(host=host, port=port)
        aclient = asynq.AsyncClient(amine)
        info = await aclient.enqueue(Task("t"), queue=qname)
        await aclient.close()
        assert await amine.llen(keys.pending_key(qname)) == 1
        await amine.aclose()
    assert node.lrange(keys.pending_key(qname), 0, -1) == [info.id.encode()]
