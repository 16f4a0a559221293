"""The scheduler on a 3-master Redis Cluster: every key it touches sits in its own slot."""

from __future__ import annotations

import pytest
from redis.cluster import RedisCluster

import asynq
from asynq.scheduler import Scheduler
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.cluster


async def test_scheduler_on_cluster(cluster) -> None:
    host, port = cluster.addrs[0]
    rc = RedisCluster(host=host, port=port)
    replicas = [Scheduler(cluster.url, heartbeat_interval=0.2) for _ in range(2)]
    try:
        ids = [s.register("@every 1s", asynq.Task("tick")) for s in replicas]
        for s in replicas:
            await s.start()
        await wait_until(lambda: rc.llen("asynq:{default}:pending") >= 2)
        await wait_until(lambda: rc.zcard("asynq:schedulers") == 2)
        await wait_until(lambda: sum(rc.zcard(f"asynq:scheduler_history:{i}") for i in ids) >= 2)
        for s in replicas:
            await s.shutdown()
        assert rc.zcard("asynq:schedulers") == 0
        assert all(rc.exists(f"asynq:scheduler_history:{i}") == 0 for i in ids)
        assert all(rc.exists(f"asynq:schedulers:{{{s.id}}}") == 0 for s in replicas)
        claims = len(rc.keys("asynq:scheduler_tick:*", target_nodes=RedisCluster.ALL_NODES))
        assert rc.llen("asynq:{default}:pending") == claims
    finally:
        for s in replicas:
            await s.shutdown()
        rc.close()
