"""How long after a worker's death its tasks run again: ``python -m benchmarks.recovery``.

Each of ``--victims`` worker processes (concurrency 1) takes one task whose handler would run
for minutes, and is SIGKILLed; the kills are spread over one heartbeat interval (5 s) because
where a kill falls between two heartbeats decides when the lease lapses. One more worker, the
rescuer, runs each task again; the figure is the time from the kill to the rescuer's handler
starting it. The distribution (min, median, max) is printed, with each sample.

With ``--go`` the victims are Go asynq servers (``tests/go/cmd/srv_server``, built into
``$ASYNQ_GO_PEER_BIN`` or ``tests/go/bin``) and the rescuer is still this library's.

Not part of ``benchmarks.run``: a sample takes half a minute of waiting, whatever the machine.
A Go-only deployment recovers in 60-120 s plus the retry delay (lease lapse, then Go's
recoverer: every minute, 30 s of grace).

Worker mode (internal): ``python -m benchmarks.recovery --worker victim|rescuer URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

import redis
import redis.asyncio

import asynq
from asynq._base import keys
from asynq.server import ActiveTask, Config, Server
from benchmarks.core import go_bin_dir
from tests.helpers.redis_procs import RedisProcess

#: Where the rescuer notes when it started each task again (Unix seconds).
RERUN = "recovery:rerun"


def worker(role: str, url: str) -> None:
    """A victim holds every task for ten minutes; the rescuer notes when it starts one."""
    recorder = redis.asyncio.Redis.from_url(url)

    async def handler(task: ActiveTask) -> None:
        if role == "victim":
            await asyncio.sleep(600)
        else:
            await recorder.hset(RERUN, task.id, repr(time.time()))

    concurrency = 1 if role == "victim" else 16
    Server(url, Config(concurrency=concurrency, task_check_interval=0.2)).run(handler)


def _spawn(role: str, url: str) -> subprocess.Popen[bytes]:
    if role == "go-victim":
        host_port = url.removeprefix("redis://").split("/")[0]
        argv = [str(go_bin_dir() / "srv_server"), "-redis", host_port, "-concurrency", "1"]
    else:
        argv = [sys.executable, "-m", "benchmarks.recovery", "--worker", role, url]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _tasks_by_pid(r: redis.Redis) -> dict[int, str]:
    """The task each live worker process lists in its heartbeat (``asynq:workers:{h:pid:id}``)."""
    found = {}
    for key in r.zrange(keys.ALL_WORKERS, 0, -1):
        pid = int(key.decode().split(":")[-2])
        for tid in r.hkeys(key):
            found[pid] = tid.decode()
    return found


def measure(url: str, victims: int, *, go: bool = False) -> list[float]:
    """Kill ``victims`` workers (Go servers with ``go``), each holding one task; the seconds
    until each task ran again."""
    r = redis.Redis.from_url(url)
    procs = [_spawn("go-victim" if go else "victim", url) for _ in range(victims)]
    rescuer: subprocess.Popen[bytes] | None = None
    try:
        with asynq.Client(url) as client:
            # srv_server's "sleep" handler sleeps for the seconds in the payload.
            task = asynq.Task("sleep", b"600") if go else asynq.Task("hold")
            ids = [client.enqueue(task, max_retry=3).id for _ in range(victims)]
        while r.llen(keys.active_key("default")) < victims:
            time.sleep(0.1)
        while len(_tasks_by_pid(r)) < victims:  # every victim has heartbeated with its task
            time.sleep(0.2)
        holding = _tasks_by_pid(r)
        rescuer = _spawn("rescuer", url)
        killed_at: dict[str, float] = {}
        for proc in procs:
            time.sleep(5.0 / victims)  # spread over one heartbeat interval
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed_at[holding[proc.pid]] = time.time()
        deadline = time.time() + 180
        while r.hlen(RERUN) < len(ids) and time.time() < deadline:
            time.sleep(0.2)
        reran = {k.decode(): float(v) for k, v in r.hgetall(RERUN).items()}
        return [reran[tid] - killed for tid, killed in killed_at.items() if tid in reran]
    finally:
        for proc in [*procs, *([rescuer] if rescuer else [])]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        r.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recovery", description=__doc__)
    parser.add_argument("--victims", type=int, default=6)
    parser.add_argument("--go", action="store_true", help="the victims are Go asynq servers")
    parser.add_argument("--worker", nargs=2, metavar=("ROLE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    server = RedisProcess()
    try:
        samples = measure(server.url, args.victims, go=args.go)
    finally:
        server.stop()
    victims = "Go servers" if args.go else "Python workers"
    print(f"seconds from SIGKILL ({victims}) to the task running again:")
    print("  samples: " + ", ".join(f"{s:.1f}" for s in samples))
    if samples:
        print(
            f"  min {min(samples):.1f}  median {statistics.median(samples):.1f}  "
            f"max {max(samples):.1f}  (n={len(samples)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
