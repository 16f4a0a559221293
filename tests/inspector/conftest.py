"""Fixtures of the Inspector tests.

- ``make_inspector(conn, **kw)``: an ``Inspector``, or an ``AsyncInspector`` behind a
  ``SyncFacade``, following the ``flavor`` parametrisation (every test runs under both).
- ``clock``: a ``FakeClock`` at :data:`NOW`; ``insp``: an inspector on ``redis_url`` using it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import asynq
from asynq.inspector import AsyncInspector, Inspector
from tests.helpers.facade import SyncFacade

#: The fake "now" of tests that do not involve Go: 2027-01-15 08:00:00.25 UTC.
NOW = 1_800_000_000.25
NOW_SEC = int(NOW)


@pytest.fixture
def make_inspector(flavor: str) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(conn: Any, **kwargs: Any) -> Any:
        if flavor == "sync":
            insp: Any = Inspector(conn, **kwargs)
        else:
            insp = SyncFacade(lambda: AsyncInspector(conn, **kwargs))
        made.append(insp)
        return insp

    yield make
    for insp in made:
        insp.close()


@pytest.fixture
def clock() -> asynq.FakeClock:
    return asynq.FakeClock(NOW)


@pytest.fixture
def insp(make_inspector: Callable[..., Any], redis_url: str, clock: asynq.FakeClock) -> Any:
    return make_inspector(redis_url, clock=clock)
