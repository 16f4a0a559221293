"""The demo's handlers and producer: a few task types with realistic outcomes."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from asynq._task import Task
from asynq.client import AsyncClient
from asynq.errors import SkipRetry
from asynq.servemux import ServeMux
from asynq.server import ActiveTask

log = logging.getLogger("asynq.demo")

mux = ServeMux()


@mux.task("email:send")
async def send_email(task: ActiveTask) -> None:
    """An I/O-bound async handler."""
    await asyncio.sleep(random.uniform(0.05, 0.4))


@mux.task("image:resize")
def resize_image(task: ActiveTask) -> None:
    """A blocking handler (runs in a thread) that sometimes fails, to show retries."""
    time.sleep(random.uniform(0.1, 0.6))
    if random.random() < 0.25:
        raise RuntimeError("decoder error: truncated image")


@mux.task("report:generate")
async def generate_report(task: ActiveTask) -> None:
    """Writes a result; the task is kept as completed for an hour (retention)."""
    await asyncio.sleep(random.uniform(0.5, 2.0))
    await task.result_writer.write_async(json.dumps({"rows": random.randint(10, 999)}).encode())


@mux.task("webhook:deliver")
async def deliver_webhook(task: ActiveTask) -> None:
    """Gives up for good on a permanent error: archived without further retries."""
    await asyncio.sleep(0.05)
    if task.json().get("url", "").startswith("http://"):
        raise SkipRetry("refusing plain-http webhook")


@mux.task("digest:send")
async def send_digest(task: ActiveTask) -> None:
    """Runs the task the group aggregator built from many ``digest:item`` tasks."""
    await asyncio.sleep(0.1)


def aggregate_digest(group: str, tasks: list[Task]) -> Task:
    """Group aggregator: one digest per group of ``digest:item`` tasks."""
    items = [t.json() for t in tasks]
    return Task.from_json("digest:send", {"user": group, "items": items})


async def produce(client: AsyncClient, rate: float, stop: asyncio.Event) -> int:
    """Enqueue a mix of tasks at about ``rate`` tasks per second until ``stop`` is set."""
    sent = 0
    users = ["ada", "grace", "linus", "barbara"]
    while not stop.is_set():
        roll = random.random()
        user = random.choice(users)
        if roll < 0.35:
            await client.enqueue(
                Task.from_json("email:send", {"to": f"{user}@example.com"}), queue="critical"
            )
        elif roll < 0.6:
            await client.enqueue(
                Task.from_json("image:resize", {"id": sent}), max_retry=3, timeout=30
            )
        elif roll < 0.7:
            await client.enqueue(
                Task.from_json("report:generate", {"month": "2026-11"}), queue="low", retention=3600
            )
        elif roll < 0.8:
            await client.enqueue_in(Task.from_json("email:send", {"to": user}), 20)
        elif roll < 0.9:
            await client.add_to_group(Task.from_json("digest:item", {"n": sent}), user)
        else:
            scheme = random.choice(["http", "https"])
            await client.enqueue(Task.from_json("webhook:deliver", {"url": f"{scheme}://x"}))
        sent += 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=random.expovariate(rate))
        except TimeoutError:
            pass
    return sent
