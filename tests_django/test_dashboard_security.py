"""The dashboard's security contract (:mod:`tests.helpers.dashboard_security`) inside Django's
admin, served by the live server and driven by headless Chromium: staff with
``view_dashboard`` read, staff with ``manage_tasks`` act, both logged in through the admin's
login form. The standalone, FastAPI and Flask mounts run the same checks in
``tests/web/test_dashboard_security.py``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext

from tests.helpers.dashboard_security import CHECKS, Mount, seed_corpus
from tests_django.test_admin_browser import browser, log_in
from tests_django.test_admin_views import ADMIN_PAGE, staff

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
