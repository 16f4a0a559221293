"""Ways to damage asynq's keys in a real Redis, the way a buggy producer or an operator could."""

from __future__ import annotations

import redis

import asynq
from asynq._base import keys
from asynq._base.codec import decode_message


def rewrite_message(r: redis.Redis, queue: str, task_id: str, **fields: int) -> None:
    """Overwrite fields of a stored task's message (e.g. ``retention=10**14``)."""
    key = keys.task_key(queue, task_id)
    msg = decode_message(r.hget(key, "msg"))
    for name, value in fields.items():
        setattr(msg, name, value)
    r.hset(key, "msg", msg.SerializeToString())


def huge_retention_completed(r: redis.Redis, client: asynq.Client, queue: str) -> str:
    """A completed task whose retention no reader can turn into a timedelta (another producer
    wrote it); its hash and its place in the completed ZSET are what Go would leave."""
    info = client.enqueue(asynq.Task("report", b"done"), queue=queue, retention=60)
    key = keys.task_key(queue, info.id)
    r.lrem(keys.pending_key(queue), 0, info.id)
    r.hset(key, "state", "completed")
    rewrite_message(r, queue, info.id, retention=10**14, completed_at=1_700_000_000)
    r.zadd(keys.completed_key(queue), {info.id: 1_700_000_060})
    return info.id
