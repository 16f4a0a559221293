from __future__ import annotations

import asynq


def test_enqueue_writes_go_layout(make_client, redis_url, r):
    client = make_client(redis_url)
    info = client.enqueue(asynq.Task("email:send", b"{}"))
    assert info.state is asynq.TaskState.PENDING
    assert r.smembers("asynq:queues") == {b"default"}
    assert r.lrange("asynq:{default}:pending", 0, -1) == [info.id.encode()]
    fields = r.hgetall(f"asynq:{{default}}:t:{info.id}")
    assert set(fields) == {b"msg", b"state", b"pending_since"}


def test_cluster_enqueue(make_client, cluster):
    client = make_client(cluster.url)
    info = client.enqueue(asynq.Task("email:send", b"{}"), queue="critical")
    assert info.queue == "critical"
