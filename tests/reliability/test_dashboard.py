"""The dashboard, /metrics and the prometheus collector with damaged data, reserved characters
in names and huge payloads: every page answers, links route, and what a page renders is capped."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from html import unescape

import httpx
import pytest
import redis
from prometheus_client import CollectorRegistry, generate_latest

import asynq
from asynq._base import keys
from asynq._dashboard.format import LIST_BYTES, PREVIEW_BYTES
from asynq.prometheus import AsynqCollector
from asynq.web import create_app, create_wsgi_app
from tests.reliability._damage import huge_retention_completed, rewrite_message

ODD_QUEUE = "a/b?c#d %2F e"
ODD_ID = "x/y?z#w%2Fv"


@pytest.fixture
async def web(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(redis_url)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        token = (await client.get("/api/csrf")).json()["token"]
        client.headers["X-CSRF-Token"] = token
        yield client
    await app.state.asynq.aclose()


@pytest.fixture
def client(redis_url: str) -> Iterator[asynq.Client]:
    with asynq.Client(redis_url) as c:
        yield c


def _links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'(?:href|action|formaction)="([^"]+)"', html)]


async def test_names_with_reserved_characters_are_linked_and_routed(
    web: httpx.AsyncClient, client: asynq.Client, redis_url: str
) -> None:
    client.enqueue(asynq.Task("t", b"odd"), queue=ODD_QUEUE, task_id=ODD_ID)
    index = await web.get("/")
    [queue_link] = [h for h in _links(index.text) if h.startswith("/queues/")]
    queue_page = await web.get(queue_link + "?state=pending")
    assert queue_page.status_code == 200
    [task_link] = [h for h in _links(queue_page.text) if "/tasks/" in h and ":" not in h]
    task_page = await web.get(task_link)
    assert task_page.status_code == 200
    assert ODD_ID in unescape(task_page.text) and ODD_QUEUE in unescape(task_page.text)
    api = await web.get(queue_link.replace("/queues/", "/api/queues/", 1) + "/pending_tasks")
    assert api.status_code == 200 and api.json()["tasks"][0]["id"] == ODD_ID
    [delete] = [h for h in _links(task_page.text) if h.endswith(":delete")]
    assert (await web.post(delete)).status_code in (200, 204, 303)
    with asynq.Inspector(redis_url) as insp:
        assert insp.list_pending_tasks(ODD_QUEUE) == []


async def test_a_huge_payload_is_previewed_with_a_download_link(
    web: httpx.AsyncClient, client: asynq.Client
) -> None:
    payload = b"x" * (3 * 1024 * 1024)
    info = client.enqueue(asynq.Task("big", payload), queue="q")
    page = await web.get(f"/queues/q/tasks/{info.id}")
    assert page.status_code == 200
    assert len(page.content) < PREVIEW_BYTES + 20_000
    assert f"Showing the first {PREVIEW_BYTES} of {len(payload)} bytes" in page.text
    [download] = [h for h in _links(page.text) if h.endswith("/payload")]
    whole = await web.get(download)
    assert whole.status_code == 200 and whole.content == payload
    assert "attachment" in whole.headers["content-disposition"]
    listed = (await web.get("/api/queues/q/pending_tasks")).json()["tasks"][0]
    assert len(listed["payload"]) == LIST_BYTES
    assert listed["payload_size"] == len(payload) and listed["payload_truncated"] is True
    single = (await web.get(f"/api/queues/q/pending_tasks/{info.id}")).status_code
    assert single in (200, 405)  # one task's JSON (GET /api/queues/q/tasks/<id>) is whole
    full = (await web.get(f"/api/queues/q/tasks/{info.id}")).json()
    assert len(full["payload"]) == len(payload) and "payload_truncated" not in full


async def test_damaged_data_fails_no_page_and_no_scrape(
    web: httpx.AsyncClient, client: asynq.Client, r: redis.Redis, redis_url: str
) -> None:
    completed = huge_retention_completed(r, client, "q")
    bad = client.enqueue(asynq.Task("t"), queue="q")
    rewrite_message(r, "q", bad.id, deadline=2**62)
    garbage = client.enqueue(asynq.Task("t"), queue="q")
    r.hset(keys.task_key("q", garbage.id), "msg", b"\xff not protobuf")
    client.enqueue(asynq.Task("t"), queue="fine")
    r.sadd(keys.ALL_QUEUES, "wq", b"\xff\xfe")
    r.set(keys.pending_key("wq"), "not a list")
    r.set(keys.failed_total_key("wq"), "NaN")

    for path in (
        "/",
        "/queues/q?state=pending",
        "/queues/q?state=completed",
        f"/queues/q/tasks/{completed}",
        f"/queues/q/tasks/{bad.id}",
        f"/queues/q/tasks/{garbage.id}",
        "/queues/wq?state=pending",
        "/api/queues",
        "/api/queues/q/completed_tasks",
        "/metrics",
    ):
        resp = await web.get(path)
        assert resp.status_code == 200, (path, resp.text[:500])
        assert "cannot talk to Redis" not in resp.text
    # The JSON list of a damaged collection is an error about the data, not about Redis.
    damaged = await web.get("/api/queues/wq/pending_tasks")
    assert damaged.status_code == 502 and "WRONGTYPE" in damaged.json()["error"]
    assert "unreadable" in (await web.get(f"/queues/q/tasks/{completed}")).text
    assert "cannot be read" in (await web.get("/queues/wq?state=pending")).text
    metrics = (await web.get("/metrics")).text
    assert 'asynq_queue_size{queue="fine"} 1' in metrics
    assert 'asynq_queue_unreadable_values{queue="wq"} 3' in metrics
    assert 'asynq_tasks_failed_total{queue="wq"}' not in metrics

    registry = CollectorRegistry()
    collector = AsynqCollector(redis_url)
    registry.register(collector)
    try:
        scraped = generate_latest(registry).decode()
    finally:
        collector.close()
    assert 'asynq_queue_size{queue="fine"} 1.0' in scraped
    assert 'asynq_tasks_failed_total{queue="wq"}' not in scraped


def test_reserved_characters_route_through_the_wsgi_app_too(redis_url: str) -> None:
    # A WSGI server decodes the path once into PATH_INFO, as an ASGI server does.
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("t", b"odd"), queue=ODD_QUEUE, task_id=ODD_ID)
    app = create_wsgi_app(redis_url)
    try:
        transport = httpx.WSGITransport(app=app)
        with httpx.Client(transport=transport, base_url="http://testserver") as http:
            index = http.get("/")
            [queue_link] = [h for h in _links(index.text) if h.startswith("/queues/")]
            page = http.get(queue_link + "?state=pending")
            assert page.status_code == 200
            [task_link] = [h for h in _links(page.text) if "/tasks/" in h and ":" not in h]
            task = http.get(task_link)
            assert task.status_code == 200 and ODD_ID in unescape(task.text)
    finally:
        app.close()
