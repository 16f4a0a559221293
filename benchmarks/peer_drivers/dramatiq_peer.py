"""Dramatiq with its Redis broker. Producer: ``actor.send()``. Worker: ``dramatiq.Worker`` with
10 threads in this process (the CLI's default is one process per core with 8 threads each);
default middleware, no result backend, ``max_retries=0``. See ``_common.py`` for the
protocol."""

from __future__ import annotations

import threading

import dramatiq
from _common import CONCURRENCY, hit, parse_args, run_sync
from dramatiq.brokers.redis import RedisBroker


def main() -> None:
    args = parse_args()
    broker = RedisBroker(url=args.redis)
    dramatiq.set_broker(broker)

    @dramatiq.actor(max_retries=0, queue_name="default")
    def noop() -> None:
        hit()

    def work() -> None:
        dramatiq.Worker(broker, worker_threads=CONCURRENCY).start()
        threading.Event().wait()

    run_sync(args, "dramatiq", dramatiq.__version__, noop.send, work)


if __name__ == "__main__":
    main()
