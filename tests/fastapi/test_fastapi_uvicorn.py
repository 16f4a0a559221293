"""The sample app under a real uvicorn process: routes enqueue through the lifespan's client,
and a wrong Redis URL (unreachable or malformed) stops the start-up with one clear line."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import redis

from tests.fastapi.processes import child, wait_for
from tests.helpers.redis_procs import free_port


def uvicorn_argv(port: int) -> list[str]:
    return ["-m", "uvicorn", "tests.fastapi.sample_app:app", "--port", str(port), "--no-access-log"]


def test_routes_enqueue_under_uvicorn(redis_url: str, r: redis.Redis) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with child(uvicorn_argv(port), ASYNQ_REDIS_URL=redis_url) as proc:
        wait_for(lambda: httpx.post(f"{base}/raw").status_code == 200, proc, "uvicorn")
        answer = httpx.post(f"{base}/greet", json={"name": "ada", "times": 2})
        assert answer.status_code == 200, answer.text
        task_id = answer.json()["id"]
    key = f"asynq:{{default}}:t:{task_id}"
    assert r.hget(key, "state") == b"pending"
    from asynq import Inspector

    with Inspector(redis_url) as inspector:
        info = inspector.get_task_info("default", task_id)
    assert info.type == "sample:greet"
    assert json.loads(info.payload) == {"greeting": {"name": "ada", "times": 2}}


def unreachable() -> tuple[str, str]:
    url = f"redis://127.0.0.1:{free_port()}/0"
    return url, f"asynq_lifespan: cannot reach Redis at {url}: "


def malformed() -> tuple[str, str]:
    return "mysql://db/0", "asynq_lifespan: $ASYNQ_REDIS_URL: unsupported redis URL scheme 'mysql'"


@pytest.mark.parametrize("wrong", [unreachable, malformed])
def test_a_wrong_redis_url_stops_uvicorn_at_start_up(wrong: Any) -> None:
    url, first_line = wrong()
    with child(uvicorn_argv(free_port()), ASYNQ_REDIS_URL=url) as proc:
        proc.wait(timeout=30)
        _, err = proc.communicate()
    assert proc.returncode != 0
    # The first thing said after uvicorn's own start-up lines is one line naming what is
    # wrong (then uvicorn's traceback).
    said = [line for line in err.splitlines() if not line.startswith("INFO:")]
    assert said[0].startswith(first_line), err
    assert "Application startup failed" in err
