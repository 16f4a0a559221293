"""Enqueue N checksum tasks and one notification: ``python producer.py [N]``."""

from __future__ import annotations

import os
import sys

from tasks import NOTIFY, checksum_task

import asynq


def main(count: int) -> None:
    with asynq.Client(os.environ.get("ASYNQ_REDIS_URL")) as client:
        client.enqueue_many(checksum_task(f"file-{n}", os.urandom(64)) for n in range(count))
        client.enqueue(asynq.Task.from_json(NOTIFY, {"user": "ada"}), queue="critical")
    print(f"enqueued {count} checksum tasks and 1 notification")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
