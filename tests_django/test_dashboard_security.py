"""Security in Django's admin, served by the live server and driven by headless Chromium; staff
with ``view_dashboard`` read, staff with ``manage_tasks`` act, both logged in through the
admin's login form.

- The admin's own asynq pages show names, payloads, results, errors and headers full of markup
  as text (their actions' permission, GET and CSRF rules are in ``test_admin_views.py``).
- asynq's full web dashboard, which the admin serves beside them, keeps its security contract
  (:mod:`tests.helpers.dashboard_security`); the standalone, FastAPI and Flask mounts run the
  same checks in ``tests/web/test_dashboard_security.py``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext

from tests.helpers.dashboard_security import (
    _DOM_PROBE,
    CHECKS,
    CORPUS,
    XSS_GROUP,
    XSS_QUEUE,
    XSS_TEXT,
    Mount,
    seed_corpus,
)
from tests_django.test_admin_browser import browser, log_in
from tests_django.test_admin_views import ADMIN, ADMIN_PAGE, staff

__all__ = ["browser"]  # one headless Chromium for the module

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = {"reader": "viewer", "writer": "manager"}


def _admin_login(base: str) -> Any:
    def login(context: BrowserContext, role: str) -> None:
        page = context.new_page()
        try:
            log_in(page, base, ROLES[role])
        finally:
            page.close()

    return login


@pytest.mark.parametrize("check", CHECKS)
def test_dashboard_security_in_the_admin(
    browser: Browser, live_server: Any, r: redis.Redis, check: str
) -> None:
    staff(ROLES["reader"], "view_dashboard")
    staff(ROLES["writer"], "manage_tasks")
    corpus = seed_corpus(r, os.environ["ASYNQ_REDIS_URL"])
    mount = Mount(
        "django-admin",
        live_server.url,
        ADMIN_PAGE.rstrip("/"),
        _admin_login(live_server.url),
        r,
        secrets=(settings.SECRET_KEY, settings.ASYNQ["API_TOKEN"]),
        # The same dashboard at the project's own URLs, and the machine endpoints beside it.
        also_protected=(
            "/asynq/dashboard/",
            "/asynq/dashboard/api/queues",
            "/asynq/metrics",
            "/asynq/stats.json",
        ),
    )
    CHECKS[check](browser, mount, corpus)


def test_the_admin_pages_show_markup_as_text(
    browser: Browser, live_server: Any, r: redis.Redis
) -> None:
    staff("manager", "manage_tasks")
    corpus = seed_corpus(r, os.environ["ASYNQ_REDIS_URL"])
    payload = CORPUS[1]
    pages: list[tuple[str, dict[str, str], int]] = [
        ("", {}, 200),
        *[("queue/", {"queue": XSS_QUEUE, "state": state}, 200) for state in corpus.xss_ids],
        ("queue/", {"queue": XSS_QUEUE, "state": "aggregating", "group": XSS_GROUP}, 200),
        ("queue/", {"queue": XSS_QUEUE, "state": "aggregating", "group": payload}, 200),
        ("queue/", {"queue": XSS_QUEUE, "state": payload, "page": payload}, 404),
        ("queue/", {"queue": payload}, 404),
        *[
            ("task/", {"queue": XSS_QUEUE, "id": task_id}, 200)
            for task_id in corpus.xss_ids.values()
        ],
        ("servers/", {}, 200),
        ("schedulers/", {}, 200),
        ("schedulers/history/", {"entry": corpus.entry_id}, 200),
    ]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        log_in(page, live_server.url, "manager")
        for path, query, status in pages:
            where = f"{path}?{urlencode(query)}"
            response = page.goto(f"{live_server.url}{ADMIN}{where}")
            assert response is not None and response.status == status, where
            probe = page.evaluate(_DOM_PROBE)
            assert not probe["ran"], f"{where}: a payload ran"
            assert probe["planted"] == [], f"{where}: unescaped markup {probe['planted']}"
            assert probe["handlers"] == [], f"{where}: inline handlers {probe['handlers']}"
            assert probe["jsUrls"] == [], f"{where}: javascript: URLs {probe['jsUrls']}"
            if path == "" or (path == "task/" and query["id"] == corpus.xss_ids["retry"]):
                assert XSS_QUEUE in probe["text"], f"{where}: the queue name is not shown"
            if path == "task/" and query["id"] == corpus.xss_ids["retry"]:
                assert CORPUS[0] in probe["text"] and XSS_TEXT in probe["text"]
        assert dialogs == []
    finally:
        context.close()
