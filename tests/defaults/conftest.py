"""Fixtures of the default-client tests.

- ``configured(name)``: point the default clients at the test Redis, their connections named
  ``name`` (so ``CLIENT LIST`` shows which are theirs); everything is reset after the test.
- ``connections(name)``: the addresses of the live connections named ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

import asynq


@pytest.fixture
def configured(redis_url: str) -> Iterator[Callable[[str], None]]:
    def configure(name: str) -> None:
        asynq.configure(asynq.RedisConnection.from_url(redis_url, client_name=name))

    yield configure
    asynq.configure()


@pytest.fixture
def connections(r: redis.Redis) -> Callable[[str], set[str]]:
    def addresses(name: str) -> set[str]:
        return {c["addr"] for c in r.client_list() if c.get("name") == name}

    return addresses
