"""A throw-away redis-server for the tests, and the app with its worker in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from asynq.demo import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def http(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ASYNQ_REDIS_URL", redis_url)
    monkeypatch.setenv("ASYNQ_WORKER", "true")
    from orders.main import app

    with TestClient(app) as client:
        yield client
