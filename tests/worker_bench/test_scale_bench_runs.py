"""The several-processes and open-loop latency benchmarks run end to end (tiny counts) and
give their rows. Only that they run is checked: timings belong in benchmarks/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import benchmarks.fleet
import benchmarks.latency
from benchmarks.core import GO, PYTHON, Env
from tests.helpers import gopeer
from tests.helpers.redis_procs import RedisProcess


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess()
    try:
        yield server
    finally:
        server.stop()


def _env(server: RedisProcess, go_bin: Path | None) -> Env:
    return Env(server.url, server.port, scale=0.01, rounds=1, go_bin=go_bin)


def test_scale_out_drains_with_one_to_four_processes(redis_server: RedisProcess) -> None:
    rows = benchmarks.fleet.scale_out(_env(redis_server, None))
    speedups = {r.name: r.value for r in rows if r.metric == "speedup_over_1"}
    assert len(speedups) == len(benchmarks.fleet.PROCESSES)
    assert speedups[benchmarks.fleet.NAME.format(n=1, es="")] == 1.0
    assert all(r.value > 0 for r in rows if r.metric == "tasks_per_sec")


@pytest.mark.interop
def test_open_loop_gives_latency_for_both_workers_at_each_rate(
    redis_server: RedisProcess,
) -> None:
    rows = benchmarks.latency.open_loop(_env(redis_server, gopeer.build_go_peer()))
    seen = {(r.name, r.impl, r.metric) for r in rows}
    for rate in benchmarks.latency.RATES:
        name = benchmarks.latency.NAME.format(rate=rate)
        for impl in (PYTHON, GO):
            for metric in ("latency_p50_ms", "latency_p99_ms", "worker_core_share"):
                assert (name, impl, metric) in seen
    assert all(r.value >= 0 for r in rows)
