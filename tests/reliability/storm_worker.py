"""A worker process for the kill-storm test: ``python -m tests.reliability.storm_worker URL``.

``sleep`` tasks sleep for the float seconds in their payload (as the Go peer srv_server's do),
then count the finished run: ``HINCRBY storm:finished <id> 1`` (and the started one, in
``storm:started``, before the sleep). ``CONCURRENCY`` sets the
concurrency (default 8). The retry delay is 1 s so that a task whose run was cut short twice
still runs again within the test.
"""

from __future__ import annotations

import asyncio
import os
import sys

import redis.asyncio

from asynq.server import ActiveTask, Config, Server

STARTED = "storm:started"
FINISHED = "storm:finished"


def main() -> None:
    url = sys.argv[1]
    recorder = redis.asyncio.Redis.from_url(url)

    async def handler(task: ActiveTask) -> None:
        await recorder.hincrby(STARTED, task.id, 1)
        await asyncio.sleep(float(task.payload or b"0"))
        await recorder.hincrby(FINISHED, task.id, 1)

    config = Config(
        concurrency=int(os.environ.get("CONCURRENCY", "8")),
        task_check_interval=0.2,
        delayed_task_check_interval=1,
        retry_delay_func=lambda n, exc, task: 1,
    )
    server = Server(url, config)
    print(f"server_id={server.server_id}", flush=True)
    server.run(handler)


if __name__ == "__main__":
    main()
