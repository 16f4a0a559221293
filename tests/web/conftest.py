"""Fixtures of the dashboard tests.

- ``make_web(**create_app_kwargs)``: an ``httpx.AsyncClient`` bound to a fresh dashboard app
  (``httpx.ASGITransport``) on the test Redis; ``with_token=True`` (default) first fetches a
  CSRF token and sends it as ``X-CSRF-Token`` on every request.
- ``web``: ``make_web()`` with the defaults.
- ``seeded``: one task in every state of ``default``, a live server and a scheduler entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from asynq.web import create_app
from tests.web._seed import Seeded, seed_everything

BASE = "http://testserver"


@pytest.fixture
async def make_web(redis_url: str) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    made: list[tuple[Any, httpx.AsyncClient]] = []

    async def make(with_token: bool = True, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("inspector_or_redis", redis_url)
        app = create_app(kwargs.pop("inspector_or_redis"), **kwargs)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        made.append((app, client))
        if with_token:
            resp = await client.get("/api/csrf")
            client.headers["X-CSRF-Token"] = resp.json()["token"]
        return client

    yield make
    for app, client in made:
        await client.aclose()
        await app.state.asynq.aclose()


@pytest.fixture
async def web(make_web: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    return await make_web()


@pytest.fixture
def seeded(r: Any, redis_url: str) -> Seeded:
    return seed_everything(r, redis_url)
