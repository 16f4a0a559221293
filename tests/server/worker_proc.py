"""A worker process for the signal and crash tests: ``python -m tests.server.worker_proc URL``.

Handlers: ``sleep`` tasks sleep for the float in their payload; every finished task id is
RPUSHed onto the Redis list ``test:done``. Environment: ``CONCURRENCY``, ``SHUTDOWN_TIMEOUT``,
``HEARTBEAT`` (interval, seconds), ``CRASH_HEARTBEAT`` (when set, the heartbeat crashes as soon
as a task is in flight).
"""

from __future__ import annotations

import asyncio
import os
import sys

import redis.asyncio

from asynq.server import ActiveTask, Config, Server
from asynq.server import _heartbeat as heartbeat


async def handler(task: ActiveTask) -> None:
    if task.type == "sleep":
        await asyncio.sleep(float(task.payload or b"0"))
    client = redis.asyncio.Redis.from_url(sys.argv[1])
    try:
        await client.rpush("test:done", task.id)
    finally:
        await client.aclose()


def _crash_heartbeat_with_a_task_in_flight() -> None:
    beat = heartbeat.Heartbeat.beat

    async def crashing_beat(self: heartbeat.Heartbeat) -> None:
        if self.server_info().active_worker_count > 0:
            raise RuntimeError("injected heartbeat crash")
        await beat(self)

    heartbeat.Heartbeat.beat = crashing_beat  # type: ignore[method-assign]


def main() -> None:
    heartbeat.HEARTBEAT_INTERVAL = float(os.environ.get("HEARTBEAT", "5"))
    if os.environ.get("CRASH_HEARTBEAT"):
        _crash_heartbeat_with_a_task_in_flight()
    config = Config(
        concurrency=int(os.environ.get("CONCURRENCY", "4")),
        shutdown_timeout=float(os.environ.get("SHUTDOWN_TIMEOUT", "8")),
        task_check_interval=0.2,
    )
    server = Server(sys.argv[1], config)
    print(f"server_id={server.server_id}", flush=True)
    server.run(handler)


if __name__ == "__main__":
    main()
