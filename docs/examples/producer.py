"""Enqueue a few tasks: now, later, unique and grouped.

Run: ``ASYNQ_REDIS_URL=redis://localhost:6379/0 python docs/examples/producer.py``
"""

from __future__ import annotations

import os

import asynq


def main() -> None:
    with asynq.Client(os.environ.get("ASYNQ_REDIS_URL")) as client:
        welcome = asynq.Task.from_json("email:welcome", {"user_id": 42})
        info = client.enqueue(welcome, queue="critical", max_retry=5)
        print(f"enqueued {info.id} in {info.queue}: {info.state}")

        reminder = asynq.Task.from_json("email:reminder", {"user_id": 42})
        info = client.enqueue_in(reminder, 3600)
        print(f"scheduled {info.id} for {info.next_process_at:%H:%M:%S} UTC")

        report = asynq.Task("report:build", b"2026-11")
        client.enqueue_unique(report, ttl=600, retention=3600)
        try:
            client.enqueue_unique(report, ttl=600)
        except asynq.DuplicateTaskError:
            print("the same report is already queued")

        infos = client.enqueue_many(
            asynq.Task.from_json("image:resize", {"id": n}) for n in range(100)
        )
        print(f"enqueued {len(infos)} image:resize tasks in one round trip")


if __name__ == "__main__":
    main()
