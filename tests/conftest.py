"""Shared fixtures: real redis-server processes, both client flavours, raw Redis access.

- ``redis_url``: a standalone redis-server (``$ASYNQ_TEST_REDIS_URL`` if set), flushed per test.
- ``cluster``: a 3-master Redis Cluster on loopback, flushed per test.
- ``r``: a raw ``redis.Redis`` on the standalone server, for asserting Go's key layout.
- ``flavor``: parametrises a test over ``"sync"`` and ``"async"``; ``make_client(url)`` then
  gives a client with blocking methods backed by ``Client`` or ``AsyncClient``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

import asynq
from tests.client.servers import SentinelRedis, SocketRedis, TlsRedis
from tests.helpers import gopeer
from tests.helpers.facade import SyncFacade
from tests.helpers.redis_procs import RedisClusterProcs, RedisProcess


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Build the Go peer (tests/go) before any test runs, if a selected test is marked interop.

    A cold build takes over a minute on a small machine; doing it here keeps it out of every
    per-test timeout, and a session without an interop test never invokes ``go``. A failed build
    (or a missing Go toolchain) fails every interop test with the reason: it is never a skip.
    """
    if any(_runs_go(item) for item in items):
        with contextlib.suppress(RuntimeError):  # remembered; raised again by each Go user
            gopeer.build_go_peer()


def _runs_go(item: pytest.Item) -> bool:
    return item.get_closest_marker("interop") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    """Tell tests/helpers/gopeer which test runs, so Go use is counted and must be declared."""
    with gopeer.running_test(item.nodeid, declared=_runs_go(item)):
        return (yield)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many tests ran the real Go asynq peer, and how they ended."""
    if not gopeer.GO_USERS:
        terminalreporter.write_sep("-", "Go interop: no test ran the Go peer")
        return
    outcomes: dict[str, str] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "nodeid", "") in gopeer.GO_USERS:
                outcomes[report.nodeid] = "failed" if outcome != "passed" else "passed"
    programs = set().union(*gopeer.GO_USERS.values())
    passed = sum(v == "passed" for v in outcomes.values())
    terminalreporter.write_sep(
        "-",
        f"Go interop: {len(gopeer.GO_USERS)} tests ran {len(programs)} Go programs built on "
        f"github.com/hibiken/asynq v0.26.0; {passed} passed, {len(outcomes) - passed} failed",
    )


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    env = os.environ.get("ASYNQ_TEST_REDIS_URL")
    if env:
        yield env
        return
    proc = RedisProcess()
    yield proc.url
    proc.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    redis.Redis.from_url(redis_server).flushdb()
    return redis_server


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def cluster_procs() -> Iterator[RedisClusterProcs]:
    procs = RedisClusterProcs()
    yield procs
    procs.stop()


@pytest.fixture
def cluster(cluster_procs: RedisClusterProcs) -> RedisClusterProcs:
    cluster_procs.flushall()
    return cluster_procs


@pytest.fixture(scope="session")
def socket_redis() -> Iterator[SocketRedis]:
    """A redis-server that also listens on a unix socket."""
    server = SocketRedis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_redis() -> Iterator[TlsRedis]:
    """A redis-server with a TLS port (and a throwaway CA)."""
    server = TlsRedis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sentinel_redis() -> Iterator[SentinelRedis]:
    """A master redis-server watched by one Sentinel."""
    server = SentinelRedis()
    yield server
    server.stop()


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(flavor: str) -> Iterator[Callable[..., Any]]:
    """``make_client(url_or_conn, **kw)`` → a Client, or an AsyncClient behind a SyncFacade."""
    made: list[Any] = []

    def make(conn: Any, **kwargs: Any) -> Any:
        if flavor == "sync":
            client: Any = asynq.Client(conn, **kwargs)
        else:
            client = SyncFacade(lambda: asynq.AsyncClient(conn, **kwargs))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
