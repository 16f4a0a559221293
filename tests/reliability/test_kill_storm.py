"""Kill storm: three worker processes take thousands of tasks while one of them, chosen at
random, is SIGKILLed every 2 s and started again. Every task must run to the end at least once,
none may be lost or left in any collection, and the runs beyond the first are bounded by the
tasks that were in flight when the kills happened (at-least-once, never "at-most-never").

One variant has a Go asynq server (tests/go/cmd/srv_server) as one of the three workers: its
tasks are recovered by the Python workers after its death, and its leases are respected while
it lives.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

import asynq
from asynq._base import keys
from tests.helpers import gopeer
from tests.helpers.processes import reap
from tests.reliability.storm_worker import FINISHED, STARTED
from tests.server.gohelpers import addr, go_events

ROOT = Path(__file__).resolve().parents[2]
Q = "default"
TASKS = 3000
BATCH = 250
#: Seconds each task's handler sleeps: long enough that every kill catches tasks in flight.
TASK_SECONDS = b"0.1"
KILL_EVERY = 2.0
KILLS = 5
#: Time for the last kill's tasks to run again (lease expiry after the victim's last heartbeat,
#: up to 30 s, plus the dead-holder pass) and for the rest to drain, with room for a busy machine.
SETTLE = 75.0


@dataclass
class Storm:
    """The worker processes of one storm, the kills, and what the kills caught in flight."""

    redis_url: str
    log_dir: Path
    workers: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    every_process: list[subprocess.Popen[bytes]] = field(default_factory=list)
    go_processes: list[gopeer.GoProcess] = field(default_factory=list)
    in_flight_at_kills: int = 0

    def start(self, kind: str) -> None:
        if kind == "go":
            proc: subprocess.Popen[bytes] = gopeer.start_go(
                "srv_server", "-redis", addr(self.redis_url), "-concurrency", "8",
                "-retry-delay", "1",
            )  # fmt: skip
            self.go_processes.append(proc)  # type: ignore[arg-type]
        else:
            with open(self.log_dir / f"worker-{len(self.every_process)}.log", "wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "tests.reliability.storm_worker", self.redis_url],
                    cwd=ROOT,
                    env=dict(os.environ),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        self.workers.append((kind, proc))
        self.every_process.append(proc)

    def kill_one(self, r: redis.Redis, rng: random.Random, kind: str | None = None) -> None:
        """Kill a random worker (of ``kind``, when given) and start another of its kind."""
        choices = [i for i, (k, _) in enumerate(self.workers) if kind in (None, k)]
        kind, victim = self.workers.pop(rng.choice(choices))
        # Every task on the active list may belong to the victim: an upper bound of its runs
        # that can be cut short (a handler that finished but whose outcome was not written yet
        # is on the list too).
        self.in_flight_at_kills += r.llen(keys.active_key(Q))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.start(kind)

    def finished_runs(self, r: redis.Redis) -> dict[str, int]:
        runs = {tid.decode(): int(n) for tid, n in r.hgetall(FINISHED).items()}
        for proc in self.go_processes:
            for event in go_events(proc):
                runs[event["id"]] = runs.get(event["id"], 0) + 1
        return runs


@pytest.fixture
def storm(redis_url: str, tmp_path: Path) -> Iterator[Storm]:
    s = Storm(redis_url, tmp_path)
    yield s
    reap(s.every_process)


def _leftovers(r: redis.Redis) -> dict[str, int]:
    return {
        "pending": r.llen(keys.pending_key(Q)),
        "active": r.llen(keys.active_key(Q)),
        "lease": r.zcard(keys.lease_key(Q)),
        "scheduled": r.zcard(keys.scheduled_key(Q)),
        "retry": r.zcard(keys.retry_key(Q)),
        "archived": r.zcard(keys.archived_key(Q)),
    }


def _run_storm(storm: Storm, r: redis.Redis, kinds: list[str]) -> None:
    for kind in kinds:
        storm.start(kind)
    rng = random.Random(20261204)
    ids: list[str] = []
    with asynq.Client(storm.redis_url) as client:
        started = time.monotonic()
        kills = 0
        while len(ids) < TASKS or kills < KILLS:
            if len(ids) < TASKS:
                infos = client.enqueue_many([asynq.Task("sleep", TASK_SECONDS)] * BATCH)
                ids += [info.id for info in infos]
            time.sleep(0.5)
            if time.monotonic() - started >= (kills + 1) * KILL_EVERY and kills < KILLS:
                # The second kill is of the Go worker, when there is one.
                storm.kill_one(r, rng, "go" if kills == 1 and "go" in kinds else None)
                kills += 1
    deadline = time.monotonic() + SETTLE
    while True:
        runs = storm.finished_runs(r)
        left = _leftovers(r)
        if all(tid in runs for tid in ids) and not any(left.values()):
            break
        if time.monotonic() > deadline:
            missing = [tid for tid in ids if tid not in runs]
            raise AssertionError(f"{len(missing)} tasks never finished; left in Redis: {left}")
        time.sleep(0.5)
    assert set(runs) == set(ids)
    duplicates = sum(runs.values()) - len(ids)
    assert storm.in_flight_at_kills > 0  # the kills did catch tasks in flight
    in_flight = storm.in_flight_at_kills
    cut_short = sum(int(n) for n in r.hvals(STARTED)) - sum(int(n) for n in r.hvals(FINISHED))
    print(
        f"storm: {len(ids)} tasks, {in_flight} on the active list at the kills, {cut_short} "
        f"Python runs cut short, {duplicates} tasks finished more than once"
    )
    assert duplicates <= storm.in_flight_at_kills, (duplicates, storm.in_flight_at_kills)


def test_kill_storm_python_workers(storm: Storm, r: redis.Redis) -> None:
    _run_storm(storm, r, ["py", "py", "py"])


@pytest.mark.interop
def test_kill_storm_with_a_go_worker(storm: Storm, r: redis.Redis) -> None:
    _run_storm(storm, r, ["py", "py", "go"])
