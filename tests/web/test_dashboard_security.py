"""The dashboard's security contract (:mod:`tests.helpers.dashboard_security`) on three mounts:
standalone (``create_app`` behind a login middleware), the FastAPI router and the Flask
blueprint, each served by a real server and driven by headless Chromium. Redis wants a
password here, so the checks also look for it in every answer. The Django admin runs the same
checks in ``tests_django/test_dashboard_security.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext

from asynq.web import create_app
from tests.helpers.dashboard_security import CHECKS, Corpus, Mount, seed_corpus
from tests.helpers.redis_procs import RedisProcess
from tests.web._users import AsgiLogin, staff_read_superuser_write
from tests.web.test_browser import _serve, _stop, browser, serve_wsgi

__all__ = ["browser"]  # the shared headless Chromium, one per module

pytestmark = pytest.mark.browser

PASSWORD = "redis-pa55word-never-shown"
MOUNTS = ("standalone", "fastapi", "flask")


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[str]:
    """A redis-server that wants a password; its URL carries it."""
    proc = RedisProcess()
    redis.Redis(port=proc.port).config_set("requirepass", PASSWORD)
    yield f"redis://:{PASSWORD}@127.0.0.1:{proc.port}/0"
    proc.stop()


@pytest.fixture
def locked_r(locked_redis: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(locked_redis)
    client.flushdb()
    yield client
    client.close()


def _cookie_login(origin: str) -> Callable[[BrowserContext, str], None]:
    """Log in with the stand-in session cookie of :mod:`tests.web._users`."""

    def login(context: BrowserContext, role: str) -> None:
        user = {"reader": "staff", "writer": "admin"}[role]
        context.add_cookies([{"name": "user", "value": user, "url": origin}])

    return login


@pytest.fixture(scope="module")
def standalone(locked_redis: str) -> Iterator[str]:
    app = AsgiLogin(
        create_app(locked_redis, permissions=staff_read_superuser_write, refresh_interval=0)
    )
    served = _serve(app)
    yield served.url
    _stop(served)


@pytest.fixture(scope="module")
def fastapi_site(locked_redis: str) -> Iterator[str]:
    from tests.fastapi.test_fastapi_dashboard import dashboard_app

    served = _serve(dashboard_app(locked_redis))
    yield served.url
    _stop(served)


@pytest.fixture(scope="module")
def flask_site(locked_redis: str) -> Iterator[str]:
    from tests.flask_adapter import admin

    with serve_wsgi(admin.create_app(locked_redis)) as url:
        yield url


def _mount(request: pytest.FixtureRequest, kind: str, r: redis.Redis) -> Mount:
    secrets = (PASSWORD,)
    if kind == "standalone":
        origin = request.getfixturevalue("standalone")
        return Mount("standalone", origin, "", _cookie_login(origin), r, secrets)
    if kind == "fastapi":
        from tests.fastapi.test_fastapi_dashboard import TOKENS

        token = {user: token for token, user in TOKENS.items()}

        def by_header(context: BrowserContext, role: str) -> None:
            user = {"reader": "staff", "writer": "admin"}[role]
            context.set_extra_http_headers({"x-token": token[user]})

        origin = request.getfixturevalue("fastapi_site")
        return Mount("fastapi", origin, "/admin/asynq", by_header, r, (*secrets, *TOKENS))
    origin = request.getfixturevalue("flask_site")

    def login_form(context: BrowserContext, role: str) -> None:
        user = {"reader": "staff", "writer": "admin"}[role]
        resp = context.request.get(f"{origin}/login?name={user}", max_redirects=0)
        assert resp.status == 302, resp.status

    return Mount("flask", origin, "/admin/asynq", login_form, r, (*secrets, "test only"))


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("kind", MOUNTS)
def test_dashboard_security(
    request: pytest.FixtureRequest,
    browser: Browser,
    locked_redis: str,
    locked_r: redis.Redis,
    kind: str,
    check: str,
) -> None:
    corpus: Corpus = seed_corpus(locked_r, locked_redis)
    CHECKS[check](browser, _mount(request, kind, locked_r), corpus)
