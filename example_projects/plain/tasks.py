"""Task types and their handlers. Import ``mux`` from a worker: ``asynq worker tasks:mux``."""

from __future__ import annotations

import hashlib

import asynq
from asynq.server import ActiveTask

mux = asynq.ServeMux()

CHECKSUM = "file:checksum"
NOTIFY = "user:notify"


def checksum_task(name: str, content: bytes) -> asynq.Task:
    """A task asking for the SHA-256 of ``content``; the result is kept for an hour."""
    return asynq.Task(CHECKSUM, content, headers={"name": name}, retention=3600)


@mux.task(CHECKSUM)
def checksum(task: ActiveTask) -> None:
    digest = hashlib.sha256(task.payload).hexdigest()
    task.result_writer.write(f"{task.headers['name']} {digest}".encode())


@mux.task(NOTIFY)
async def notify(task: ActiveTask) -> None:
    if not task.json().get("user"):
        raise asynq.SkipRetry("no user to notify")
