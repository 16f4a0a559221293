"""The dashboard router of a FastAPI app served by a real uvicorn, in headless Chromium: a
stranger is refused by the app's own dependency, an admin sees the queue and pauses it, and a
running task's page shows its progress live."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Browser, expect

import asynq
from tests.fastapi.test_fastapi_dashboard import dashboard_app
from tests.web.test_browser import SHOTS, _serve, _stop, browser

pytestmark = pytest.mark.browser

__all__ = ["browser"]  # the shared Chromium fixture


@pytest.fixture
def served(redis_url: str) -> Iterator[str]:
    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("dash:seen", b"hello"), queue="mail")
    running = _serve(dashboard_app(redis_url))
    yield running.url
    _stop(running)


def test_a_stranger_is_refused_and_an_admin_acts(
    browser: Browser, served: str, r: redis.Redis
) -> None:
    stranger = browser.new_context().new_page()
    answer = stranger.goto(served + "/admin/asynq/")
    assert answer is not None and answer.status == 401
    assert "log in first" in stranger.content()
    stranger.context.close()

    context = browser.new_context(extra_http_headers={"x-token": "t-admin"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(served + "/admin/asynq")  # redirected to the index
    assert page.url == served + "/admin/asynq/"
    page.click("a:text-is('mail')")
    expect(page).to_have_url(served + "/admin/asynq/queues/mail")
    page.goto(served + "/admin/asynq/queues/mail?state=pending")
    expect(page.get_by_text("dash:seen")).to_be_visible()
    page.goto(served + "/admin/asynq/")
    page.click("tr[data-queue=mail] button:text-is('Pause')")
    expect(page.locator("tr[data-queue=mail] .badge")).to_have_text("paused")
    assert r.exists("asynq:{mail}:paused")
    page.screenshot(path=str(SHOTS / "fastapi-router.png"), full_page=True)
    assert errors == []  # the scripts and styles loaded through the router, CSP intact
    context.close()


def test_the_task_page_shows_progress_live(browser: Browser, redis_url: str) -> None:
    from asynq_fastapi import asynq_lifespan
    from tests.fastapi import test_fastapi_progress as progress
    from tests.server.conftest import FAST

    lifespan = asynq_lifespan(redis_url, worker=True, tasks=progress.fns, worker_config=FAST)
    running = _serve(dashboard_app(redis_url, lifespan))
    progress.gates.clear()
    try:
        with asynq.Client(redis_url) as client:
            info = progress.steps.using(client=client).enqueue("page")
        context = browser.new_context(extra_http_headers={"x-token": "t-admin"})
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{running.url}/admin/asynq/queues/default/tasks/{info.id}")
        text = page.locator("#progress .progress-text")
        expect(text).to_have_text(re.compile(r"^state: (pending|active)$"))  # no report yet
        for step in (1, 2, 3):
            progress.gate("page", step).set()
            if step < 3:
                expect(text).to_have_text(
                    f"step {step} of 3 \u2014 {step} / 3 \u2014 state: active"
                )
        expect(page.locator("#progress")).to_have_attribute("data-state", "completed")
        expect(text).to_have_text("step 3 of 3 \u2014 3 / 3 \u2014 state: completed")
        value = page.eval_on_selector("#progress progress", "bar => bar.value")
        assert value == 1
        page.screenshot(path=str(SHOTS / "fastapi-progress.png"), full_page=True)
        context.close()
    finally:
        for event in progress.gates.get("page", []):
            event.set()
        _stop(running)
