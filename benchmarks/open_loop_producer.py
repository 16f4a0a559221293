"""The producer of the open-loop latency benchmark (:mod:`benchmarks.latency`), a process of
its own: ``python -m benchmarks.open_loop_producer --redis URL --rate R --seconds S``.

Open loop: task i is due at ``start + i / R`` whatever the worker does (a closed loop, which
waits for the previous task, would slow down with the worker and hide its queueing). Each
task's payload is its due time (``time.time_ns()`` clock, ASCII), so the latency a worker
reports (handler start - due time) includes any delay of the producer itself: a producer that
falls behind shows as latency, not as a lower offered rate. Whatever is due is sent at once:
one ``Client.enqueue``, or one ``enqueue_many`` when several are due (at 10,000/s a tick of
the sleep loop often finds a few). Prints ``{"sent": n, "seconds": wall}`` when done.
"""

from __future__ import annotations

import argparse
import json
import time

import asynq

TYPE = "bench:latency"
QUEUE = "default"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.open_loop_producer")
    parser.add_argument("--redis", required=True)
    parser.add_argument("--rate", type=float, required=True, help="tasks per second")
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    step_ns = int(1e9 / args.rate)
    with asynq.Client(args.redis) as client:
        client.enqueue(asynq.Task("bench:warmup", b"0"), queue="warmup")  # connect, load script
        start_ns = time.time_ns() + 10_000_000
        sent = 0
        started = time.perf_counter()
        while sent < total:
            now = time.time_ns()
            due = min(total, (now - start_ns) // step_ns + 1)
            if due <= sent:
                time.sleep(max(0.0, (start_ns + sent * step_ns - now) / 1e9))
                continue
            tasks = [asynq.Task(TYPE, b"%d" % (start_ns + i * step_ns)) for i in range(sent, due)]
            if len(tasks) == 1:
                client.enqueue(tasks[0], queue=QUEUE)
            else:
                client.enqueue_many(tasks, queue=QUEUE)
            sent = due
    print(json.dumps({"sent": sent, "seconds": time.perf_counter() - started}), flush=True)


if __name__ == "__main__":
    main()
