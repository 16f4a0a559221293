"""``python -m asynq.demo``: run the demo until Ctrl-C (or ``--duration`` seconds)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from asynq._task import Task
from asynq.client import AsyncClient
from asynq.connection import redact
from asynq.demo._app import aggregate_digest, mux, produce
from asynq.demo._embedded_redis import EmbeddedRedis
from asynq.scheduler import Scheduler
from asynq.server import Config, Server


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m asynq.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8080, help="dashboard port (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="dashboard host (default 127.0.0.1)")
    parser.add_argument("--rate", type=float, default=5.0, help="tasks enqueued per second")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
    parser.add_argument(
        "--verbose", action="store_true", help="log every task failure with its traceback"
    )
    return parser.parse_args(argv)


def _dashboard(url: str, host: str, port: int) -> Any:
    import uvicorn

    from asynq.web import create_app

    config = uvicorn.Config(create_app(url), host=host, port=port, log_level="warning")
    return uvicorn.Server(config)


async def _main(url: str, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.duration > 0:
        loop.call_later(args.duration, stop.set)

    server = Server(
        url,
        Config(
            concurrency=8,
            queues={"critical": 6, "default": 3, "low": 1},
            group_aggregator=aggregate_digest,
            group_grace_period=5,
            group_max_size=20,
            delayed_task_check_interval=1,
        ),
    )
    scheduler = Scheduler(url, heartbeat_interval=5)
    scheduler.register(
        "@every 10s",
        Task.from_json("report:generate", {"kind": "hourly"}),
        queue="low",
        retention=3600,
    )
    client = AsyncClient(url)

    await server.start(mux)
    await scheduler.start()
    web, dashboard = None, None
    if not args.no_dashboard:
        web = _dashboard(url, args.host, args.port)
        dashboard = asyncio.create_task(web.serve())
        print(f"dashboard: http://{args.host}:{args.port}/", flush=True)
    print("worker, producer and scheduler running; Ctrl-C to stop", flush=True)
    sent = await produce(client, args.rate, stop)
    print(f"stopping: {sent} tasks enqueued", flush=True)
    if web is not None and dashboard is not None:
        web.should_exit = True  # uvicorn's own graceful stop
        await dashboard
    await scheduler.shutdown()
    await server.shutdown()
    await client.close()


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if not args.verbose:
        # The demo fails tasks on purpose; their tracebacks would drown the output.
        logging.getLogger("asynq").setLevel(logging.CRITICAL)
    url = os.environ.get("ASYNQ_REDIS_URL")
    with contextlib.ExitStack() as stack:
        if url:
            print(f"redis: {redact(url)} (from ASYNQ_REDIS_URL)", flush=True)
        else:
            embedded = stack.enter_context(EmbeddedRedis())
            url = embedded.url
            print(f"redis: {url} (embedded {embedded.binary})", flush=True)
        asyncio.run(_main(url, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
