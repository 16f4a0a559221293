"""asynq's admin pages in headless Chromium, as a manager, a viewer and an anonymous visitor."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.contrib.admin.models import LogEntry
from playwright.sync_api import Browser, Page, sync_playwright

import asynq
from asynq import Inspector
from tests_django.shop import tasks
from tests_django.test_admin_views import ADMIN, ADMIN_PAGE, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The confirmation page's button (the admin's wording, with its typographic apostrophe).
CONFIRM = "Yes, I\u2019m sure"
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
    yield tab
    context.close()


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_a_manager_runs_two_selected_tasks_after_confirming(
    page: Page, live_server: Any, r: redis.Redis
) -> None:
    with asynq.Client(os.environ["ASYNQ_REDIS_URL"]) as client:
        ids = [client.enqueue_in(asynq.Task("report", b"{}"), 3600).id for _ in range(3)]
    staff("manager", "manage_tasks")
    log_in(page, live_server.url, "manager")
    page.click("text=Task queue dashboard")
    page.wait_for_url(f"{live_server.url}{ADMIN}")
    assert page.locator("#site-name").is_visible()  # the admin's own page, not a frame
    assert page.locator("iframe").count() == 0
    page.click("#result_list >> text=default")
    page.click("a[data-state=scheduled]")
    for task_id in ids[:2]:
        page.check(f"tr[data-task-id='{task_id}'] input.action-select")
    page.select_option("select[name=action]", "run")
    page.click("button:has-text('Go')")

    page.locator("text=Are you sure you want to run the selected scheduled tasks?").wait_for()
    assert page.locator("#asynq-affected li").count() == 2
    assert [Inspector(r).get_task_info("default", i).state.value for i in ids] == ["scheduled"] * 3
    page.get_by_role("button", name=CONFIRM).click()

    page.locator(".messagelist >> text=2 tasks made pending").wait_for()
    assert page.locator("a[data-state=scheduled][aria-current=page]").is_visible()  # back
    assert page.locator("tr[data-task-id]").count() == 1
    states = [Inspector(r).get_task_info("default", i).state.value for i in ids]
    assert states == ["pending", "pending", "scheduled"]
    assert ids[0] in LogEntry.objects.get().change_message


def test_a_manager_archives_every_pending_task_through_select_all(
    page: Page, live_server: Any, r: redis.Redis
) -> None:
    ids = [tasks.add.enqueue(n, n).id for n in range(25)]
    staff("manager", "manage_tasks")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}{ADMIN}queue/?queue=default&state=pending&size=10")
    page.check("#action-toggle")  # the admin's own actions.js ticks the page's ten
    assert page.locator("input.action-select:checked").count() == 10
    page.locator(".action-counter >> text=10 of 10 selected").wait_for()
    page.click("text=Select all 25 pending tasks")
    page.select_option("select[name=action]", "archive")
    page.click("button:has-text('Go')")
    page.locator("text=archive all 25 pending tasks of queue default?").wait_for()
    assert Inspector(r).get_queue_info("default").pending == 25
    page.get_by_role("button", name=CONFIRM).click()
    page.locator(".messagelist >> text=25 pending tasks archived").wait_for()
    assert all(Inspector(r).get_task_info("default", i).state.value == "archived" for i in ids)


def test_a_manager_pauses_a_queue_after_confirming(
    page: Page, live_server: Any, r: redis.Redis
) -> None:
    tasks.add.enqueue(1, 2)
    staff("manager", "manage_tasks")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}{ADMIN}queue/?queue=default&state=pending")
    page.click("button:has-text('Pause queue')")
    page.locator("text=Are you sure you want to pause queue default?").wait_for()
    assert not Inspector(r).get_queue_info("default").paused
    page.get_by_role("button", name=CONFIRM).click()
    page.locator(".messagelist >> text=Queue default paused").wait_for()
    assert page.locator("button:has-text('Unpause queue')").is_visible()
    assert Inspector(r).get_queue_info("default").paused


def test_a_viewer_sees_the_pages_without_action_controls(
    page: Page, live_server: Any, r: redis.Redis
) -> None:
    result = tasks.add.enqueue(1, 2)
    staff("viewer", "view_dashboard")
    log_in(page, live_server.url, "viewer")
    page.goto(f"{live_server.url}{ADMIN}")
    page.click("#result_list >> text=default")
    page.click("a[data-state=pending]")
    page.click(f"text={result.id}")
    page.locator("#asynq-task-fields >> text=tests_django.shop.tasks.add").first.wait_for()
    assert page.locator("#asynq-payload pre").inner_text().startswith("{")
    page.goto(f"{live_server.url}{ADMIN}queue/?queue=default&state=pending")
    assert page.locator(f"tr[data-task-id='{result.id}']").is_visible()
    controls = page.locator("#content-main button, #content-main input, #content-main select")
    assert controls.count() == 0
    for section in ("Servers", "Schedulers", "Redis"):
        page.click(f".asynq-sections >> text={section}")
        assert page.locator(".asynq-sections a[aria-current=page]").inner_text() == section


def test_an_anonymous_visitor_gets_the_login_page(page: Page, live_server: Any) -> None:
    for path in (ADMIN, f"{ADMIN}queue/?queue=default", ADMIN_PAGE):
        page.goto(f"{live_server.url}{path}")
        assert "/admin/login/" in page.url
        assert page.locator("#id_username").is_visible()
