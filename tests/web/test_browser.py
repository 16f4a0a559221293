"""The dashboard in real headless Chromium (Playwright), served by uvicorn on a loopback port.

Every action is checked in Redis afterwards. Screenshots of each page go to
``tests/artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import uvicorn
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright
from werkzeug.serving import make_server

import asynq
from asynq._base import keys
from asynq.web import create_app
from tests.helpers.redis_procs import free_port
from tests.web._seed import XSS, Seeded
from tests.web._users import AsgiLogin, staff_read_superuser_write

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@dataclass
class Served:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def _serve(app: Any) -> Served:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return Served(f"http://127.0.0.1:{port}", server, thread)


def _stop(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(timeout=15)


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """``app`` served by werkzeug's threaded WSGI server on a loopback port: its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def dash(redis_server: str) -> Iterator[str]:
    served = _serve(create_app(redis_server, refresh_interval=0, page_size=20))
    yield served.url
    _stop(served)


@pytest.fixture(scope="module")
def ro_dash(redis_server: str) -> Iterator[str]:
    served = _serve(create_app(redis_server, read_only=True, refresh_interval=0))
    yield served.url
    _stop(served)


@pytest.fixture(scope="module")
def perm_dash(redis_server: str) -> Iterator[str]:
    """Staff may read, superusers may act; the ``user`` cookie says who is asking."""
    app = create_app(redis_server, permissions=staff_read_superuser_write, refresh_interval=0)
    served = _serve(AsgiLogin(app))
    yield served.url
    _stop(served)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    page: Page
    dialogs: list[str]
    errors: list[str]


@pytest.fixture
def tab(browser: Browser, r: redis.Redis) -> Iterator[Tab]:
    """A fresh browser context and page; dialogs are recorded and accepted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    state = Tab(page, [], [])

    def on_dialog(dialog: Dialog) -> None:
        state.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: state.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: state.errors.append(str(e)))
    yield state
    context.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_every_page(tab: Tab, dash: str, seeded: Seeded) -> None:
    page = tab.page
    page.goto(dash + "/")
    expect(page.locator("#queues tr[data-queue=default]")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    _shot(page, "01-queues")
    page.click("#queues a:text-is('default')")
    for state in (
        "active",
        "pending",
        "aggregating",
        "scheduled",
        "retry",
        "archived",
        "completed",
    ):
        page.click(f"nav.tabs a[data-state={state}]")
        expect(page.locator(f"tr[data-task-id='{seeded.ids[state]}']")).to_be_visible()
        _shot(page, f"02-queue-{state}")
    page.click(f"a:text-is('{seeded.ids['completed']}')")
    expect(page.locator("section#result pre")).to_contain_text('"ok": true')
    _shot(page, "03-task")
    page.click("header nav a:text-is('Servers')")
    expect(page.locator(f"[data-server-id='{seeded.server_id}']")).to_contain_text("worker-1:99")
    _shot(page, "04-servers")
    page.click("header nav a:text-is('Schedulers')")
    expect(page.locator(f"tr[data-entry-id='{seeded.entry_id}']")).to_contain_text("@every 1m")
    _shot(page, "05-schedulers")
    page.click(f"tr[data-entry-id='{seeded.entry_id}'] a:text-is('History')")
    expect(page.locator("#events")).to_contain_text("event-task-1")
    _shot(page, "06-scheduler-history")
    page.click("header nav a:text-is('Redis')")
    expect(page.locator("#raw-info")).to_contain_text("redis_version")
    _shot(page, "07-redis")
    page.click("header nav a:text-is('Metrics')")
    expect(page.locator("body")).to_contain_text('asynq_queue_size{queue="default"} 7')
    _shot(page, "08-metrics")
    assert tab.dialogs == [] and tab.errors == []


def test_paginate(tab: Tab, dash: str, redis_url: str) -> None:
    with asynq.Client(redis_url) as c:
        ids = [c.enqueue(asynq.Task("t", str(i).encode())).id for i in range(25)]
    page = tab.page
    page.goto(dash + "/queues/default?state=pending")
    page.click(".sizes a:text-is('10')")
    expect(page.locator(".pageinfo")).to_have_text("Page 1 of 3")
    expect(page.locator("table.tasks tbody tr")).to_have_count(10)
    page.click("a[rel=next]")
    expect(page.locator(".pageinfo")).to_have_text("Page 2 of 3")
    expect(page.locator(f"tr[data-task-id='{ids[10]}']")).to_be_visible()
    page.click("a[rel=next]")
    expect(page.locator("table.tasks tbody tr")).to_have_count(5)
    expect(page.locator(f"tr[data-task-id='{ids[24]}']")).to_be_visible()
    _shot(page, "09-pagination")
    page.click("a[rel=prev]")
    expect(page.locator(".pageinfo")).to_have_text("Page 2 of 3")


def test_row_actions_change_redis(
    tab: Tab, dash: str, seeded: Seeded, r: redis.Redis, redis_url: str
) -> None:
    page, ids = tab.page, seeded.ids
    page.goto(dash + "/queues/default?state=scheduled")
    page.click(f"tr[data-task-id='{ids['scheduled']}'] button[data-action=run]")
    expect(page.locator(".flash.ok")).to_contain_text("made pending")
    assert r.hget(keys.task_key("default", ids["scheduled"]), "state") == b"pending"

    page.goto(dash + "/queues/default?state=pending")
    page.click(f"tr[data-task-id='{ids['pending']}'] button[data-action=archive]")
    expect(page.locator(".flash.ok")).to_contain_text("archived")
    assert r.zscore(keys.archived_key("default"), ids["pending"]) is not None

    page.goto(dash + "/queues/default?state=archived")
    page.click(f"tr[data-task-id='{ids['archived']}'] button[data-action=delete]")
    expect(page.locator(".flash.ok")).to_contain_text("deleted")
    assert not r.exists(keys.task_key("default", ids["archived"]))
    _shot(page, "10-after-delete")

    sub = redis.Redis.from_url(redis_url).pubsub()
    sub.subscribe("asynq:cancel")
    sub.get_message(timeout=2)
    page.goto(dash + "/queues/default?state=active")
    page.click(f"tr[data-task-id='{ids['active']}'] button[data-action=cancel]")
    expect(page.locator(".flash.ok")).to_contain_text("canceled")
    message = sub.get_message(timeout=5)
    assert message is not None and message["data"] == ids["active"].encode()
    sub.close()
    assert tab.errors == []


def test_bulk_selection(tab: Tab, dash: str, redis_url: str, r: redis.Redis) -> None:
    with asynq.Client(redis_url) as c:
        for i in range(4):
            c.enqueue(asynq.Task("t", str(i).encode()))
    page = tab.page
    page.goto(dash + "/queues/default?state=pending")
    selected = page.locator("button.batch:text-is('Delete selected')")
    expect(selected).to_be_disabled()
    page.check("input.select-all")
    expect(selected).to_be_enabled()
    _shot(page, "11-bulk-selected")
    selected.click()
    expect(page.locator(".flash.ok")).to_contain_text("4 tasks deleted")
    assert r.llen(keys.pending_key("default")) == 0


def test_delete_all_asks_for_confirmation(
    tab: Tab, dash: str, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as c:
        for _ in range(3):
            c.enqueue_in(asynq.Task("s"), 3600)
    page = tab.page
    page.goto(dash + "/queues/default?state=scheduled")
    page.click("button.all:text-is('Archive all')")
    expect(page.locator(".flash.ok")).to_contain_text("3 scheduled tasks archived")
    assert tab.dialogs == ["confirm: Archive all scheduled tasks in default?"]
    assert r.zcard(keys.archived_key("default")) == 3


def test_declined_confirmation_changes_nothing(
    browser: Browser, dash: str, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("t"))
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda d: d.dismiss())
    page.goto(dash + "/queues/default?state=pending")
    page.click("button.all:text-is('Delete all')")
    expect(page.locator("table.tasks tbody tr[data-task-id]")).to_have_count(1)
    assert r.llen(keys.pending_key("default")) == 1
    context.close()


def test_pause_and_resume(tab: Tab, dash: str, redis_url: str, r: redis.Redis) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("t"))
    page = tab.page
    page.goto(dash + "/")
    page.click("tr[data-queue=default] button:text-is('Pause')")
    expect(page.locator("tr[data-queue=default] .badge")).to_have_text("paused")
    assert r.exists(keys.paused_key("default"))
    _shot(page, "12-paused")
    page.click("tr[data-queue=default] button:text-is('Resume')")
    expect(page.locator("tr[data-queue=default] .badge")).to_have_text("run")
    assert not r.exists(keys.paused_key("default"))


def test_html_payload_renders_inert(tab: Tab, dash: str, redis_url: str, r: redis.Redis) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("xss", XSS.encode()), task_id="xss")
    r.hset(keys.task_key("default", "xss"), "result", XSS.encode())
    page = tab.page
    page.goto(dash + "/queues/default?state=pending")
    expect(page.locator("tr[data-task-id=xss] td.payload")).to_have_text(XSS)
    page.goto(dash + "/queues/default/tasks/xss")
    expect(page.locator("section#payload pre")).to_have_text(XSS)
    expect(page.locator("section#result pre")).to_have_text(XSS)
    assert page.locator("main script, main img").count() == 0
    page.wait_for_timeout(300)  # give an injected handler a chance to fire (none must)
    _shot(page, "13-xss-inert")
    assert tab.dialogs == []


def test_csrf_in_the_browser(tab: Tab, dash: str, seeded: Seeded, r: redis.Redis) -> None:
    page = tab.page
    page.goto(dash + "/queues/default?state=pending")
    url = f"/api/queues/default/pending_tasks/{seeded.ids['pending']}:delete"
    status = page.evaluate("url => fetch(url, {method: 'POST'}).then(r => r.status)", url)
    assert status == 403
    assert r.exists(keys.task_key("default", seeded.ids["pending"]))
    status = page.evaluate(
        """url => fetch(url, {method: 'POST', headers: {'X-CSRF-Token':
            document.querySelector('meta[name=csrf-token]').content}}).then(r => r.status)""",
        url,
    )
    assert status == 204
    assert not r.exists(keys.task_key("default", seeded.ids["pending"]))


def test_read_only_mode(tab: Tab, ro_dash: str, seeded: Seeded, r: redis.Redis) -> None:
    page = tab.page
    page.goto(ro_dash + "/queues/default?state=pending")
    expect(page.locator("header .badge.ro")).to_have_text("read-only")
    assert page.locator("main button").count() == 0
    assert page.locator("input[type=checkbox]").count() == 0
    _shot(page, "14-read-only")
    status = page.evaluate(
        """() => fetch('/api/queues/default:pause', {method: 'POST', headers: {'X-CSRF-Token':
            document.querySelector('meta[name=csrf-token]').content}}).then(r => r.status)"""
    )
    assert status == 405
    assert not r.exists(keys.paused_key("default"))


def test_auto_refresh(tab: Tab, dash: str, redis_url: str) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("early"))
    page = tab.page
    page.goto(dash + "/queues/default?state=pending")
    page.evaluate("() => localStorage.setItem('asynq.refresh', '0.5')")
    page.reload()
    expect(page.locator("#refresh-select")).to_have_value("0.5")
    with asynq.Client(redis_url) as c:
        task_id = c.enqueue(asynq.Task("late")).id
    expect(page.locator(f"tr[data-task-id='{task_id}']")).to_be_visible()
    assert tab.errors == []


def _as(browser: Browser, url: str, user: str | None) -> Page:
    context = browser.new_context()
    if user is not None:
        context.add_cookies([{"name": "user", "value": user, "url": url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_permissions_per_user(
    browser: Browser, perm_dash: str, seeded: Seeded, r: redis.Redis
) -> None:
    anonymous = _as(browser, perm_dash, None)
    resp = anonymous.goto(perm_dash + "/queues/default?state=pending")
    assert resp is not None and resp.status == 403
    expect(anonymous.locator("body")).to_have_text("forbidden")
    anonymous.context.close()

    reader = _as(browser, perm_dash, "staff")
    reader.goto(perm_dash + "/queues/default?state=pending")
    expect(reader.locator(f"tr[data-task-id='{seeded.ids['pending']}']")).to_be_visible()
    expect(reader.locator("header .badge.ro")).to_have_text("read-only")
    assert reader.locator("main button").count() == 0
    assert reader.locator("input[type=checkbox]").count() == 0
    _shot(reader, "15-reader")
    status = reader.evaluate(
        """() => fetch('/api/queues/default:pause', {method: 'POST', headers: {'X-CSRF-Token':
            document.querySelector('meta[name=csrf-token]').content}}).then(r => r.status)"""
    )
    assert status == 403
    assert not r.exists(keys.paused_key("default"))
    reader.context.close()

    writer = _as(browser, perm_dash, "admin")
    writer.goto(perm_dash + "/")
    writer.click("tr[data-queue=default] button:text-is('Pause')")
    expect(writer.locator("tr[data-queue=default] .badge")).to_have_text("paused")
    assert r.exists(keys.paused_key("default"))
    writer.goto(perm_dash + "/queues/default?state=pending")
    writer.click(f"tr[data-task-id='{seeded.ids['pending']}'] button[data-action=delete]")
    expect(writer.locator(".flash.ok")).to_contain_text("deleted")
    assert not r.exists(keys.task_key("default", seeded.ids["pending"]))
    writer.context.close()
