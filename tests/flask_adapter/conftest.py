"""Fixtures of the Flask adapter tests: apps registered with an extension, on the test Redis.

asynq's default clients are per process, and ``init_app`` points them at the app's
``ASYNQ_REDIS_URL``; every test puts them back afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

import asynq
from asynq_flask import Asynq
from tests.server.conftest import start_server

__all__ = ["make_app", "start_server"]


@pytest.fixture(autouse=True)
def _default_clients_reset() -> Iterator[None]:
    yield
    asynq.configure()


@pytest.fixture
def make_app(redis_url: str) -> Callable[..., Flask]:
    """``make_app(extension, **config)``: a Flask app on the test Redis, registered with
    ``extension``."""

    def make(extension: Asynq, name: str = "shop", **config: Any) -> Flask:
        app = Flask(name)
        app.config.update({"ASYNQ_REDIS_URL": redis_url, **config})
        extension.init_app(app)
        return app

    return make
