"""The dashboard blueprint in headless Chromium, served by a real WSGI server: a Flask-Login
login, the pages under the blueprint's prefix, and a click that pauses a queue in Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Browser, expect

import asynq
from tests.flask_adapter import admin
from tests.web.test_browser import SHOTS, browser, serve_wsgi

__all__ = ["browser"]  # the shared headless Chromium fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def site(redis_url: str) -> Iterator[str]:
    with serve_wsgi(admin.create_app(redis_url)) as url:
        yield url


def test_login_then_pause_a_queue_from_the_blueprint(
    browser: Browser, site: str, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("report"), queue="reports")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(site + "/admin/asynq/")
    assert page.url == site + "/login"  # anonymous: sent to the login page

    page.goto(site + "/login?name=admin")
    assert page.url == site + "/admin/asynq/"
    row = page.locator("tr[data-queue=reports]")
    expect(row).to_be_visible()
    # The stylesheet came through the blueprint whole.
    assert page.evaluate("() => document.styleSheets[0].cssRules.length") > 10
    for link in page.locator("a[href^='/']").all():
        assert (link.get_attribute("href") or "").startswith("/admin/asynq/")
    row.locator("button:text-is('Pause')").click()
    expect(row.locator(".badge")).to_have_text("paused")
    assert r.exists("asynq:{reports}:paused")
    page.screenshot(path=str(SHOTS / "flask-blueprint-paused.png"))

    page.click("a:text-is('reports')")
    assert page.url.startswith(site + "/admin/asynq/queues/reports")
    expect(page.locator("main")).to_contain_text("report")
    context.close()


def test_staff_see_the_pages_without_actions(browser: Browser, site: str, redis_url: str) -> None:
    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("report"), queue="reports")
    context = browser.new_context()
    page = context.new_page()
    page.goto(site + "/login?name=staff")
    expect(page.locator("tr[data-queue=reports]")).to_be_visible()
    assert page.locator("tr[data-queue=reports] button:text-is('Pause')").count() == 0
    context.close()


def test_a_task_page_follows_the_task_through_the_blueprint(
    browser: Browser, site: str, redis_url: str
) -> None:
    # A WSGI host sends a response only once it is complete: the progress endpoint answers
    # the current state and the page's EventSource asks again, until the task is over.
    with asynq.Client(redis_url) as client:
        task_id = client.enqueue(asynq.Task("report"), queue="reports").id
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(site + "/login?name=staff")
    page.goto(f"{site}/admin/asynq/queues/reports/tasks/{task_id}")
    progress = page.locator("#progress")
    expect(progress).to_have_attribute("data-state", "pending")
    with asynq.Inspector(redis_url) as inspector:
        inspector.archive_task("reports", task_id)
    expect(progress).to_have_attribute("data-state", "archived")
    context.close()
