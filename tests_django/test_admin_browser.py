"""The admin's dashboard in headless Chromium, as a manager, a viewer and an anonymous visitor."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.contrib.admin.models import LogEntry
from playwright.sync_api import Browser, Page, sync_playwright

from asynq import Inspector
from tests_django.shop import tasks
from tests_django.test_admin_views import ADMIN_PAGE, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread, which Django takes
    # for async code; the test's own database calls are plain blocking ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # the dashboard's confirmations
    yield tab
    context.close()


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_a_manager_pauses_a_queue_from_the_admin(
    page: Page, live_server: Any, r: redis.Redis
) -> None:
    tasks.add.enqueue(1, 2)
    staff("manager", "manage_tasks")
    log_in(page, live_server.url, "manager")
    page.click("text=Task queue dashboard")
    page.wait_for_url(f"{live_server.url}/admin/asynq_django/dashboard/")
    assert page.locator("#site-name").is_visible()  # the admin's own header around it
    frame = page.frame_locator("iframe.asynq-frame")
    frame.locator("button:has-text('Pause')").click()
    frame.locator(".badge.paused").wait_for()
    assert Inspector(r).get_queue_info("default").paused
    assert LogEntry.objects.get().change_message == "POST api/queues/default:pause"


def test_a_viewer_sees_the_queues_without_actions(
    page: Page, live_server: Any, r: redis.Redis
) -> None:
    tasks.add.enqueue(1, 2)
    staff("viewer", "view_dashboard")
    log_in(page, live_server.url, "viewer")
    page.goto(f"{live_server.url}/admin/asynq_django/dashboard/")
    frame = page.frame_locator("iframe.asynq-frame")
    frame.locator("text=default").first.wait_for()
    assert frame.locator("button:has-text('Pause')").count() == 0
    page.goto(f"{live_server.url}{ADMIN_PAGE}queues/default?state=pending")
    assert page.locator("text=tests_django.shop.tasks.add").first.is_visible()


def test_an_anonymous_visitor_gets_the_login_page(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}{ADMIN_PAGE}")
    assert "/admin/login/" in page.url
    assert page.locator("#id_username").is_visible()
