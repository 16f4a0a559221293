"""Fixtures of the deployment tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy._sentinel import FailoverSet


@pytest.fixture
def failover_set() -> Iterator[FailoverSet]:
    """A primary, a replica and three Sentinels, fresh for each test."""
    servers = FailoverSet()
    yield servers
    servers.stop()
