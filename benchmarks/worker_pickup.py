"""Pickup latency benchmark: how long an idle worker takes to start the handler of a task
enqueued while it waits; Python's ``Server`` against Go asynq v0.26.0's
(``tests/go/cmd/bench_srv_pickup``) on the same Redis.

Tasks are enqueued one at a time, each ``SPACING`` after the previous one was picked up, so
the worker is idle every time. The enqueuer reads the clock (``time.time_ns()``, Go:
``time.Now().UnixNano()``) just before the enqueue call and puts it in the payload; the
handler's first act is to read the same machine clock and print both. Latency = handler start
- enqueue start, so it includes the enqueue round trip.

* Python-enqueued, Python worker: this library's enqueue publishes on the queue's pending
  channel and the idle worker wakes at once (target: p50 <= 1 ms, p99 <= 2 ms).
* Python-enqueued, Go worker: Go polls, sleeping ``TaskCheckInterval`` (1 s) x [0.5, 1.5)
  between empty polls, so fewer samples are taken.
* Go-enqueued (Go's ``Client`` via ``tests/go/cmd/bench_srv_enqueue``), Python worker: Go does
  not publish; the idle worker's blocking wait on the pending list wakes it (target: p50 <= 5 ms,
  p99 <= 20 ms).

Enqueueing right after the previous pickup means a polling worker has just begun its sleep:
the polled figures are close to the full poll delay, not the average wait of a random arrival.
The first tasks of each run warm up connections and scripts and are not counted.
"""

from __future__ import annotations

import queue
import subprocess
import time
from collections.abc import Callable

import asynq
from benchmarks.core import GO, PYTHON, Env, Row, benchmark
from benchmarks.worker_common import (
    PENDING_CHANNEL,
    QUEUE,
    WorkerProcess,
    percentile,
    start_go,
    start_python,
    wait_ready,
)

TYPE = "bench:pickup"
#: Samples when the worker is woken by a publish, and when it has to poll.
SAMPLES = 200
POLLED_SAMPLES = 20
#: Pause between a pickup and the next enqueue (the worker goes idle in between).
SPACING = 0.010
#: Longest acceptable wait for one pickup (Go's poll sleeps at most 1.5 s).
PICKUP_TIMEOUT = 10.0

PY_ENQUEUED = "worker pickup, Python-enqueued"
GO_ENQUEUED = "worker pickup, Go-enqueued"


def _next_pickup(worker: WorkerProcess) -> tuple[int, int]:
    deadline = time.monotonic() + PICKUP_TIMEOUT
    while True:
        try:
            line = worker.lines.get(timeout=0.5)
        except queue.Empty:
            worker.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{worker.label} did not pick a task up in {PICKUP_TIMEOUT} s:\n{worker.log()}"
                ) from None
            continue
        enqueued, picked = line.split()
        return int(enqueued), int(picked)


def collect(
    worker: WorkerProcess, enqueue: Callable[[], None], samples: int, warmup: int
) -> list[float]:
    """Pickup latencies in milliseconds of ``samples`` tasks after ``warmup`` uncounted ones."""
    latencies: list[float] = []
    for i in range(warmup + samples):
        enqueue()
        enqueued, picked = _next_pickup(worker)
        if i >= warmup:
            latencies.append((picked - enqueued) / 1e6)
        time.sleep(SPACING)
    return latencies


def _wait_subscribed(env: Env, worker: WorkerProcess) -> None:
    """Wait until the Python worker listens on the pending channel (its wake-up path)."""
    wait_ready(
        env,
        worker,
        lambda r: dict(r.pubsub_numsub(PENDING_CHANNEL)).get(PENDING_CHANNEL.encode()),
        "subscribed",
    )


class PythonEnqueuer:
    """Enqueues one pickup task with ``Client.enqueue`` and records how long the call took."""

    def __init__(self, client: asynq.Client) -> None:
        self._client = client
        self.calls_ms: list[float] = []

    def __call__(self) -> None:
        now = time.time_ns()
        self._client.enqueue(asynq.Task(TYPE, b"%d" % now), queue=QUEUE)
        self.calls_ms.append((time.time_ns() - now) / 1e6)


def _go_enqueuer(proc: subprocess.Popen[bytes]) -> Callable[[], None]:
    def enqueue() -> None:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        if proc.stdout.readline() != b"ok\n":
            raise RuntimeError(f"bench_srv_enqueue failed ({proc.poll()})")

    return enqueue


def latency_rows(
    name: str, impl: str, latencies: list[float], enqueue_calls: list[float] | None = None
) -> list[Row]:
    """p50, p99 and the sample count; and the median enqueue call, which latency includes."""
    rows = [
        Row(name, impl, "pickup_p50_ms", percentile(latencies, 50), "ms p50"),
        Row(name, impl, "pickup_p99_ms", percentile(latencies, 99), "ms p99"),
        Row(name, impl, "pickup_samples", float(len(latencies)), "samples"),
    ]
    if enqueue_calls:
        p50 = percentile(enqueue_calls, 50)
        rows.append(Row(name, impl, "enqueue_call_p50_ms", p50, "ms enq p50"))
    return rows


def _run(
    env: Env,
    worker: WorkerProcess,
    enqueue: Callable[[], None],
    samples: int,
    warmup: int,
    *,
    subscribes: bool,
) -> list[float]:
    """Collect from ``worker`` and stop it; a Python worker is first awaited on its channel."""
    try:
        if subscribes:
            _wait_subscribed(env, worker)
        return collect(worker, enqueue, samples, warmup)
    finally:
        worker.stop()


@benchmark(PY_ENQUEUED, group="worker")
def python_enqueued(env: Env) -> list[Row]:
    """Python ``Client.enqueue`` to an idle Python worker, and to an idle Go worker."""
    with asynq.Client(env.redis_url) as client:
        enqueue = PythonEnqueuer(client)
        worker = start_python(env, "--pickup", pipe=True)
        samples = env.count(SAMPLES, minimum=5)
        py = _run(env, worker, enqueue, samples, warmup=3, subscribes=True)
        rows = latency_rows(PY_ENQUEUED, PYTHON, py, enqueue.calls_ms[3:])
        if env.go_bin is not None:
            enqueue = PythonEnqueuer(client)
            worker = start_go(env, "bench_srv_pickup", pipe=True)
            samples = env.count(POLLED_SAMPLES, minimum=3)
            go = _run(env, worker, enqueue, samples, warmup=1, subscribes=False)
            rows += latency_rows(PY_ENQUEUED, GO, go, enqueue.calls_ms[1:])
    return rows


@benchmark(GO_ENQUEUED, group="worker")
def go_enqueued(env: Env) -> list[Row]:
    """Go ``Client.EnqueueContext`` (no publish) to an idle Python worker; needs Go."""
    if env.go_bin is None:
        return []
    program = env.go_program("bench_srv_enqueue")
    proc = subprocess.Popen(
        [str(program), "-redis", env.redis_addr, "-queue", QUEUE, "-type", TYPE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        worker = start_python(env, "--pickup", pipe=True)
        samples = env.count(SAMPLES, minimum=5)
        latencies = _run(env, worker, _go_enqueuer(proc), samples, warmup=3, subscribes=True)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    return latency_rows(GO_ENQUEUED, PYTHON, latencies)
