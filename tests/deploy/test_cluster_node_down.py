"""A worker on a 3-master Redis Cluster keeps going when one master goes down and comes back.

The cluster runs with AOF and ``cluster-require-full-coverage no`` (without it every node stops
answering as soon as one slot range is uncovered, which is Redis' choice, not asynq's). The
downed master owns one queue's slot and ``asynq:servers``: its queue stops and the heartbeat's
server list cannot be written, the other two queues keep being served, and the tasks waiting
on it run once it is back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis.cluster import RedisCluster

import asynq
from asynq import Task
from asynq._base import keys
from tests.deploy._support import Recorder, serving, wait_drained
from tests.helpers.redis_procs import RedisClusterProcs, RedisProcess

pytestmark = pytest.mark.cluster

#: Long enough for a loaded machine, well short of the 30 s lease: a task that waits that long
#: has been taken from its queue and left aside, not merely delayed.
SERVED_WITHIN = 20.0

VICTIM_KEY = keys.ALL_SERVERS


@pytest.fixture(scope="module")
def aof_cluster() -> Iterator[RedisClusterProcs]:
    procs = RedisClusterProcs("--appendonly", "yes", "--appendfsync", "always")
    for node in procs.nodes:
        redis.Redis(port=node.port).config_set("cluster-require-full-coverage", "no")
    yield procs
    procs.stop()


def _queue_per_node(aof_cluster: RedisClusterProcs) -> tuple[dict[str, RedisProcess], str]:
    """One queue name per master (its owner), and the queue whose master is taken down: the
    one holding ``asynq:servers``, as every master holds one global key or another."""
    host, port = aof_cluster.addrs[0]
    rc = RedisCluster(host=host, port=port)
    try:
        by_port = {n.port: n for n in aof_cluster.nodes}
        owners: dict[str, RedisProcess] = {}
        for i in range(500):
            node = rc.get_node_from_key(keys.pending_key(f"q{i}"))
            if node.port not in {n.port for n in owners.values()}:
                owners[f"q{i}"] = by_port[node.port]
        victim_port = rc.get_node_from_key(VICTIM_KEY).port
    finally:
        rc.close()
    assert len(owners) == 3
    victim = next(q for q, n in owners.items() if n.port == victim_port)
    return owners, victim


async def test_one_master_down_and_back(aof_cluster: RedisClusterProcs) -> None:
    url = aof_cluster.url
    owners, victim = _queue_per_node(aof_cluster)
    survivors = [q for q in owners if q != victim]
    # Strict priority with the downed master's queue last: every fetch pass reaches the
    # survivors' queues first, so nothing but the downed queue's own failure stands in the way.
    priorities = {q: 3 - i for i, q in enumerate([*survivors, victim])}
    recorder = Recorder()
    async with (
        asynq.AsyncClient(url) as client,
        serving(url, recorder, queues=priorities, strict_priority=True),
    ):
        first = [(await client.enqueue(Task("t"), queue=q)).id for q in owners for _ in range(10)]
        await recorder.wait_for(first)
        # Tasks that will be due while their master is down: they must run after it returns.
        waiting = [
            (await client.enqueue(Task("t"), queue=victim, process_in=1)).id for _ in range(10)
        ]

        owners[victim].kill()
        with pytest.raises(asynq.BrokerConnectionError):
            await client.enqueue(Task("t"), queue=victim)
        during = [
            (await client.enqueue(Task("t"), queue=q)).id for q in survivors for _ in range(10)
        ]
        # The other masters' queues are still served.
        await recorder.wait_for(during, within=SERVED_WITHIN)
        assert not set(waiting) & recorder.done

        owners[victim].restart()
        aof_cluster.wait_ok()
        after = [(await client.enqueue(Task("t"), queue=victim)).id for _ in range(10)]
        await recorder.wait_for(waiting + after)
        await wait_drained(url, owners)
    assert set(first + waiting + during + after) <= recorder.done
