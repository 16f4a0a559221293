"""Celery with its Redis broker (kombu's Redis transport). Producer: ``task.delay()``. Worker:
the threads pool with 10 threads in this process (one process at concurrency 10, like the
others); results ignored (``task_ignore_result``, as Celery's optimizing guide advises when
nothing reads them); ``worker_prefetch_multiplier`` raised to 16, the guide's advice for many
short tasks; gossip, mingle and heartbeat events off. See ``_common.py`` for the protocol."""

from __future__ import annotations

import celery
from _common import CONCURRENCY, hit, parse_args, run_sync
from celery import Celery


def main() -> None:
    args = parse_args()
    app = Celery("peer", broker=args.redis)
    app.conf.update(
        task_ignore_result=True,
        worker_prefetch_multiplier=16,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name="noop")
    def noop() -> None:
        hit()

    worker_argv = [
        "worker",
        "--pool=threads",
        f"--concurrency={CONCURRENCY}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=WARNING",
    ]
    run_sync(args, "celery", celery.__version__, noop.delay, lambda: app.worker_main(worker_argv))


if __name__ == "__main__":
    main()
