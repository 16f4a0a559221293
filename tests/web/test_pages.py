"""Server-rendered pages and /metrics through httpx.ASGITransport."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
import redis

import asynq
from asynq.web._metrics import escape_label
from tests.web._seed import XSS, Seeded


@pytest.mark.parametrize(
    "path",
    ["/", "/?days=30", "/servers", "/schedulers", "/redis", "/queues/default"],
)
async def test_pages_render(web: httpx.AsyncClient, seeded: Seeded, path: str) -> None:
    resp = await web.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "<main" in resp.text


async def test_overview(web: httpx.AsyncClient, seeded: Seeded) -> None:
    text = (await web.get("/")).text
    assert 'data-queue="default"' in text
    assert '<svg class="chart"' in text and "Queue size" in text and "Tasks processed" in text
    assert "default active: 1" in text  # SVG tooltip of the stacked bar
    assert "processed 10, failed 3" in text  # today's bar in the history chart
    assert 'action="/api/queues/default:pause"' in text


async def test_queue_tabs_and_rows(web: httpx.AsyncClient, seeded: Seeded) -> None:
    for state, task_id in seeded.ids.items():
        url = f"/queues/default?state={state}" + ("&group=grp" if state == "aggregating" else "")
        text = (await web.get(url)).text
        assert f'data-task-id="{task_id}"' in text, state
        assert f'data-state="{state}" aria-current' not in text  # link attrs order differs
        assert 'class="active" aria-current="page" data-state="' + state + '"' in text
    active = (await web.get("/queues/default?state=active")).text
    assert "formaction" in active and ":cancel" in active and ":batch_cancel" in active
    retry = (await web.get("/queues/default?state=retry")).text
    assert "boom" in retry and ":run_all" in retry and ":archive_all" in retry
    assert (await web.get("/queues/default?state=bogus")).status_code == 404
    missing = await web.get("/queues/nope")
    assert missing.status_code == 404 and "does not exist" in missing.text


async def test_pagination_links(web: httpx.AsyncClient, redis_url: str) -> None:
    with asynq.Client(redis_url) as c:
        ids = [c.enqueue(asynq.Task("t")).id for _ in range(25)]
    first = (await web.get("/queues/default?state=pending&size=10")).text
    assert "Page 1 of 3" in first and ids[0] in first and ids[10] not in first
    assert 'rel="next" href="/queues/default?state=pending&amp;size=10&amp;page=2"' in first
    third = (await web.get("/queues/default?state=pending&size=10&page=3")).text
    assert ids[24] in third and ids[0] not in third and 'rel="next"' not in third


async def test_task_page(web: httpx.AsyncClient, seeded: Seeded) -> None:
    text = (await web.get(f"/queues/default/tasks/{seeded.ids['completed']}")).text
    assert "Payload" in text and "Result" in text and "&#34;ok&#34;: true" in text
    active = (await web.get(f"/queues/default/tasks/{seeded.ids['active']}")).text
    assert "Worker deadline" in active and ":cancel" in active
    assert (await web.get("/queues/default/tasks/nope")).status_code == 404


async def test_html_payload_is_escaped(
    web: httpx.AsyncClient, redis_url: str, r: redis.Redis
) -> None:
    queue = "<i onmouseover=alert(1)>q"
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task(XSS, XSS.encode()), queue=queue, task_id="xss")
    r.hset(f"asynq:{{{queue}}}:t:xss", "result", XSS.encode())
    q = quote(queue, safe="")
    pages = [
        (await web.get("/")).text,
        (await web.get(f"/queues/{q}?state=pending")).text,
        (await web.get(f"/queues/{q}/tasks/xss")).text,
    ]
    assert "<i onmouseover" not in pages[0] and "&lt;i onmouseover=alert(1)&gt;q" in pages[0]
    for text in pages:
        assert "<script>alert" not in text
        assert "<img src=x" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[2]


async def test_binary_payload_shows_a_hex_dump(web: httpx.AsyncClient, redis_url: str) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("bin", bytes(range(256)) * 2), task_id="bin")
    text = (await web.get("/queues/default/tasks/bin")).text
    assert "not UTF-8 text: hex dump" in text
    assert "00000000  00 01 02 03" in text
    listing = (await web.get("/queues/default?state=pending")).text
    assert "hex: 00 01 02" in listing


async def test_servers_schedulers_redis_pages(web: httpx.AsyncClient, seeded: Seeded) -> None:
    servers = (await web.get("/servers")).text
    assert "worker-1:99" in servers and seeded.ids["active"] in servers
    scheds = (await web.get("/schedulers")).text
    assert seeded.entry_id in scheds and "@every 1m" in scheds and "Queue(&#34;low&#34;)" in scheds
    hist = (await web.get(f"/schedulers/{seeded.entry_id}")).text
    assert "event-task-1" in hist
    redis_page = (await web.get("/redis")).text
    assert "redis_version" in redis_page and "Version" in redis_page


def _metric(text: str, name: str, **labels: str) -> float:
    label = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(label)}\}} (\S+)$", text, re.M)
    assert match, f"{name}{{{label}}} missing"
    return float(match.group(1))


async def test_metrics_use_go_names(web: httpx.AsyncClient, seeded: Seeded, r: redis.Redis) -> None:
    r.set("asynq:{default}:paused", 1)
    resp = await web.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = resp.text
    for state in ("active", "pending", "scheduled", "retry", "archived", "completed"):
        assert _metric(text, "asynq_tasks_enqueued_total", queue="default", state=state) == 1
    assert _metric(text, "asynq_queue_size", queue="default") == 7
    assert _metric(text, "asynq_queue_latency_seconds", queue="default") >= 0
    assert _metric(text, "asynq_queue_memory_usage_approx_bytes", queue="default") > 0
    assert _metric(text, "asynq_tasks_processed_total", queue="default") == 50
    assert _metric(text, "asynq_tasks_failed_total", queue="default") == 7
    assert _metric(text, "asynq_queue_paused_total", queue="default") == 1
    assert "# TYPE asynq_tasks_processed_total counter" in text
    assert "# TYPE asynq_queue_size gauge" in text


def test_metric_label_escaping() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


async def test_static_assets_are_shipped(web: httpx.AsyncClient) -> None:
    css = await web.get("/static/dashboard.css")
    js = await web.get("/static/dashboard.js")
    assert css.status_code == js.status_code == 200
    assert "data-confirm" in js.text
    page = (await web.get("/")).text
    assert "http://" not in page.split("<body")[0] and "https://" not in page.split("<body")[0]
