"""RQ. Producer: ``Queue.enqueue`` with ``result_ttl=0`` (nothing reads the results). Worker:
RQ's ``SimpleWorker`` (no fork per job, the throughput choice in RQ's docs) in burst mode; an RQ
worker runs one job at a time, so the drain runs at concurrency 1, not 10. See ``_common.py``
for the protocol."""

from __future__ import annotations

from importlib.metadata import version

from _common import hit, parse_args, run_sync
from redis import Redis
from rq import Queue, SimpleWorker


def noop() -> None:
    hit()


def main() -> None:
    args = parse_args()
    queue = Queue("default", connection=Redis.from_url(args.redis))
    run_sync(
        args,
        "rq",
        version("rq"),
        lambda: queue.enqueue(noop, result_ttl=0),
        lambda: SimpleWorker([queue], connection=queue.connection).work(
            burst=True, logging_level="WARNING"
        ),
    )


if __name__ == "__main__":
    # RQ refuses functions of __main__: run the same code as the module ``rq_peer``.
    import rq_peer

    rq_peer.main()
