"""A throw-away redis-server and a fresh database for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from shop import create_app
from shop.extensions import db

from asynq.demo import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def app(redis_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        ASYNQ_REDIS_URL=redis_url, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.db'}"
    )
    yield app
    with app.app_context():
        db.engine.dispose()
