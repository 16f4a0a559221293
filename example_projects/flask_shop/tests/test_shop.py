"""Signing up welcomes the user from a real worker, after the commit; a failed sign-up sends
nothing; the dashboard answers this machine only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask
from shop.extensions import asynq

from asynq.server import Server


def run_worker_until(app: Flask, redis_url: str, done: Callable[[], Any]) -> None:
    """Run a worker in this process until ``done()`` is true (10 s at most)."""

    async def main() -> None:
        server = Server(redis_url, asynq.server_config(app, task_check_interval=0.1))
        await server.start(asynq.registry)
        try:
            for _ in range(200):
                if done():
                    break
                await asyncio.sleep(0.05)
        finally:
            await server.shutdown()

    asyncio.run(main())


def test_sign_up_welcomes_the_user_from_the_worker(app: Flask, redis_url: str) -> None:
    client = app.test_client()
    created = client.post("/users", data={"email": "ada@example.com"})
    assert created.status_code == 201
    user_id = created.json["id"]  # type: ignore[index]
    assert client.get(f"/users/{user_id}").json["welcomed"] is False  # type: ignore[index]

    run_worker_until(app, redis_url, lambda: client.get(f"/users/{user_id}").json["welcomed"])  # type: ignore[index]
    assert client.get(f"/users/{user_id}").json["welcomed"] is True  # type: ignore[index]


def test_a_failed_sign_up_sends_no_welcome(app: Flask, redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    client = app.test_client()
    assert client.post("/users", data={"email": "bob@example.com"}).status_code == 201
    assert client.post("/users", data={"email": "bob@example.com"}).status_code == 409
    assert r.llen("asynq:{default}:pending") == 1  # the first sign-up's welcome only
    r.close()


def test_the_dashboard_answers_this_machine_only(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/asynq/").status_code == 200
    assert client.get("/asynq/", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403
