"""Fixtures for the Go interop tests: the built Go peer, its Redis flags, Go servers.

Every test here runs a real Go program built against hibiken/asynq v0.26.0 on the same real
redis-server as the Python side. A missing Go toolchain fails the tests (never skips them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.helpers import gopeer
from tests.helpers.redis_procs import RedisClusterProcs


@pytest.fixture(scope="session", autouse=True)
def go_peer() -> Path:
    """The directory holding the built ``tests/go/cmd/*`` programs (built after collection by
    tests/conftest.py; a failed build fails here, with its output)."""
    return gopeer.build_go_peer()


@pytest.fixture
def go_redis(redis_url: str) -> list[str]:
    """Flags that point a Go peer at the standalone test redis-server (flushed per test)."""
    u = urlparse(redis_url)
    return ["-redis", f"{u.hostname}:{u.port}", "-db", (u.path.strip("/") or "0")]


@pytest.fixture
def go_cluster(cluster: RedisClusterProcs) -> list[str]:
    """Flags that point a Go peer at the 3-master test cluster (flushed per test)."""
    return ["-cluster", ",".join(f"{h}:{p}" for h, p in cluster.addrs)]


@pytest.fixture
def go_server() -> Iterator[Callable[..., gopeer.GoProcess]]:
    """``go_server(*args)`` starts ``peer_server``; every server is stopped at teardown."""
    started: list[gopeer.GoProcess] = []

    def start(*args: str) -> gopeer.GoProcess:
        proc = gopeer.start_go("peer_server", *args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
