"""A worker server with a ServeMux, middleware, and sync and async handlers.

Run: ``ASYNQ_REDIS_URL=redis://localhost:6379/0 python docs/examples/worker.py``; stop it with
Ctrl-C (running tasks get up to ``shutdown_timeout`` to finish; the rest are requeued).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import asynq
from asynq.servemux import Handler, call_handler
from asynq.server import ActiveTask, Config, Server

log = logging.getLogger("worker")
mux = asynq.ServeMux()


def timed(next_handler: Handler) -> Handler:
    """Middleware: log how long each task took, whatever kind of handler it wraps."""

    async def handler(task: ActiveTask) -> None:
        start = time.perf_counter()
        await call_handler(next_handler, task)
        log.info("%s %s took %.3fs", task.type, task.id, time.perf_counter() - start)

    return handler


mux.use(timed)


@mux.task("email:")  # every email:* task, by longest prefix
async def send_email(task: ActiveTask) -> None:
    user = task.json()["user_id"]
    await asyncio.sleep(0.01)  # talk to the mail service here
    log.info("sent %s to user %s (attempt %d)", task.type, user, task.retry_count + 1)


@mux.task("report:build")
def build_report(task: ActiveTask) -> None:  # a plain function runs in a thread
    task.result_writer.write(b"rows=123")


@mux.task("image:resize")
async def resize(task: ActiveTask) -> None:
    if task.json()["id"] < 0:
        raise asynq.SkipRetry("negative image id")  # archive now, no retries


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = Config(concurrency=10, queues={"critical": 6, "default": 3, "low": 1})
    Server(os.environ.get("ASYNQ_REDIS_URL"), config).run(mux)


if __name__ == "__main__":
    main()
