"""The order service end to end: route -> task -> worker (in-process) -> receipt."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient


def wait_for_receipt(http: TestClient, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = http.get(f"/orders/{task_id}").json()
        if answer["state"] == "fulfilled":
            return answer
        time.sleep(0.05)
    raise AssertionError(f"order {task_id} was not fulfilled: {answer}")


def test_an_order_is_fulfilled_by_the_worker(http: TestClient) -> None:
    placed = http.post("/orders", json={"item": "book", "quantity": 3, "email": "ada@example.com"})
    assert placed.status_code == 202
    answer = wait_for_receipt(http, placed.json()["task_id"])
    assert answer["receipt"] == {"item": "book", "quantity": 3, "total_cents": 3600}


def test_the_catalog_is_a_dependency_the_test_replaces(http: TestClient) -> None:
    from orders.main import app
    from orders.tasks import get_catalog

    app.dependency_overrides[get_catalog] = lambda: {"book": 1000}
    try:
        placed = http.post("/orders", json={"item": "book", "quantity": 2, "email": "a@b.c"})
        answer = wait_for_receipt(http, placed.json()["task_id"])
    finally:
        app.dependency_overrides.clear()
    assert answer["receipt"]["total_cents"] == 2000


def test_a_route_uses_the_tasks_dependency(http: TestClient) -> None:
    assert http.get("/catalog").json() == {"book": 1200, "pen": 150, "lamp": 4500}


def test_a_bad_order_is_refused_before_it_is_queued(http: TestClient) -> None:
    answer = http.post("/orders", json={"item": "book", "quantity": 0, "email": "x"})
    assert answer.status_code == 422


def test_an_unknown_order_is_404(http: TestClient) -> None:
    assert http.get("/orders/nope").status_code == 404


def test_the_dashboard_needs_the_password(http: TestClient) -> None:
    assert http.get("/asynq/").status_code == 401
    assert http.get("/asynq/", auth=("admin", "wrong")).status_code == 401
    page = http.get("/asynq/", auth=("admin", "admin"))
    assert page.status_code == 200
    assert "default" in page.text
