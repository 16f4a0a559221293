"""The Python worker process of the worker benchmarks: one ``Server`` with a trivial handler.

Run as ``python -m benchmarks.worker_proc --redis URL [--concurrency 10] [--pickup] [--sync]``.
It processes the ``default`` queue until SIGTERM/SIGINT; the server's log goes to stderr.

Handlers:

* no-op (default): returns at once, for the drain benchmark.
* ``--pickup``: its first act is to read the clock; it then writes one line on stdout,
  ``"<payload> <time.time_ns()>"``. The benchmark puts the enqueue time (Unix nanoseconds, same
  clock) in the payload, so latency = second field - first field. The Go twin is
  ``tests/go/cmd/bench_srv_pickup``.

``--sync`` makes the handler a plain ``def`` (run in a worker thread) instead of ``async def``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

from asynq.server import ActiveTask, Config, Server


async def noop(task: ActiveTask) -> None:
    """Does nothing."""


def noop_sync(task: ActiveTask) -> None:
    """Does nothing, in a worker thread."""


async def pickup(task: ActiveTask) -> None:
    """Reports when the task was picked up (unbuffered: the line leaves at once)."""
    now = time.time_ns()
    os.write(1, b"%s %d\n" % (task.payload, now))


def pickup_sync(task: ActiveTask) -> None:
    """:func:`pickup` in a worker thread."""
    now = time.time_ns()
    os.write(1, b"%s %d\n" % (task.payload, now))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker_proc")
    parser.add_argument("--redis", required=True, help="redis:// URL")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--pickup", action="store_true", help="report pickup times on stdout")
    parser.add_argument("--sync", action="store_true", help="a plain def handler")
    args = parser.parse_args(argv)
    if args.pickup:
        handler = pickup_sync if args.sync else pickup
    else:
        handler = noop_sync if args.sync else noop
    Server(args.redis, Config(concurrency=args.concurrency)).run(handler)


if __name__ == "__main__":
    main()
