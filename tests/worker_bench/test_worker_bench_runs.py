"""The worker benchmarks run end to end (tiny counts) and give rows for Python and Go.

Only that they run is checked: timings belong in benchmarks/, never in assertions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import benchmarks.worker  # noqa: F401  (registers the worker benchmarks)
from benchmarks.core import GO, PYTHON, REGISTRY, Env, Row, call
from tests.helpers import gopeer
from tests.helpers.redis_procs import RedisProcess


@pytest.fixture
def env() -> Iterator[Env]:
    server = RedisProcess()
    try:
        yield Env(
            redis_url=server.url,
            redis_port=server.port,
            scale=0.01,
            rounds=1,
            go_bin=gopeer.build_go_peer(),
        )
    finally:
        server.stop()


@pytest.mark.interop
def test_worker_benchmarks_produce_rows_for_both_implementations(env: Env) -> None:
    rows: list[Row] = []
    for bench in REGISTRY.values():
        if bench.group == "worker":
            r = env.raw()
            r.flushall()
            r.close()
            rows.extend(call(bench, env))

    metrics = {(row.metric, row.impl) for row in rows}
    for metric in ("tasks_per_sec", "cpu_s_per_1k_tasks", "peak_rss_mb", "pickup_p50_ms"):
        assert (metric, PYTHON) in metrics
        assert (metric, GO) in metrics
    assert ("redis_cmds_per_task", GO) in metrics
    names = {row.name for row in rows}
    assert any("Go-enqueued" in name for name in names)
    assert all(row.value >= 0 for row in rows)
