"""Per-request permissions: the host's user reaches the ``permissions`` hook, which decides.

Over real HTTP semantics (httpx against the ASGI app and against the WSGI form), with the user
handed over the documented way (``asynq.user`` in the scope / environ) and every refusal checked
in Redis: staff may look, superusers may act, anyone else is turned away.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount

import asynq
from asynq._base import keys
from asynq.web import READ_WRITE, Access, Viewer, create_app, create_wsgi_app
from tests.web._seed import Seeded
from tests.web._users import AsgiLogin, WsgiLogin, staff_read_superuser_write

PAUSE = "/api/queues/default:pause"


def _token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
async def asgi(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The dashboard behind a login middleware, under ``/ops``; no user header yet."""
    dash = create_app(redis_url, permissions=staff_read_superuser_write)
    host = Starlette(routes=[Mount("/ops", app=dash)])
    transport = httpx.ASGITransport(app=AsgiLogin(host))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await dash.state.asynq.aclose()


async def test_anonymous_and_unprivileged_are_turned_away(
    asgi: httpx.AsyncClient, seeded: Seeded
) -> None:
    for headers in ({}, {"x-user": "visitor"}, {"x-user": "nobody-we-know"}):
        for url in ("/ops/", "/ops/api/queues", "/ops/metrics", "/ops/static/dashboard.css"):
            resp = await asgi.get(url, headers=headers)
            assert resp.status_code == 403, (headers, url)
            assert "default" not in resp.text


async def test_reader_sees_no_actions_and_cannot_mutate(
    asgi: httpx.AsyncClient, seeded: Seeded, r: redis.Redis
) -> None:
    asgi.headers["x-user"] = "staff"
    page = await asgi.get("/ops/queues/default?state=pending")
    assert page.status_code == 200 and seeded.ids["pending"] in page.text
    assert "<button" not in page.text and 'type="checkbox"' not in page.text
    assert "formaction" not in page.text and 'class="badge ro"' in page.text
    index = await asgi.get("/ops/")
    assert index.status_code == 200 and "Pause" not in index.text
    assert (await asgi.get("/ops/api/queues")).status_code == 200
    token = _token(page.text)  # a valid token for this reader's cookie
    pending = seeded.ids["pending"]
    for method, url, kwargs in [
        ("POST", f"/ops{PAUSE}", {"headers": {"X-CSRF-Token": token}}),
        ("POST", f"/ops{PAUSE}", {"data": {"csrf_token": token, "next": "/ops/"}}),
        ("DELETE", "/ops/api/queues/default?force=true", {"headers": {"X-CSRF-Token": token}}),
        (
            "POST",
            f"/ops/api/queues/default/pending_tasks/{pending}:delete",
            {"headers": {"X-CSRF-Token": token}},
        ),
    ]:
        resp = await asgi.request(method, url, **kwargs)
        assert resp.status_code == 403, (method, url)
        assert "not change" in resp.text
    assert not r.exists(keys.paused_key("default"))
    assert r.exists(keys.task_key("default", pending))
    assert r.sismember(keys.ALL_QUEUES, "default")


async def test_writer_sees_actions_and_acts(
    asgi: httpx.AsyncClient, seeded: Seeded, r: redis.Redis
) -> None:
    asgi.headers["x-user"] = "admin"
    page = await asgi.get("/ops/queues/default?state=pending")
    assert "<button" in page.text and 'class="badge ro"' not in page.text
    resp = await asgi.post(f"/ops{PAUSE}", data={"csrf_token": _token(page.text), "next": "/ops/"})
    assert resp.status_code == 303 and resp.headers["location"] == "/ops/"
    assert r.exists(keys.paused_key("default"))
    # The CSRF check still applies to writers:
    assert (await asgi.post("/ops/api/queues/default:resume")).status_code == 403
    assert r.exists(keys.paused_key("default"))


async def test_the_hook_sees_user_method_path_and_headers(
    make_web: Any, redis_url: str, seeded: Seeded
) -> None:
    seen: list[Viewer] = []

    async def record(viewer: Viewer) -> Access:  # an awaitable hook
        seen.append(viewer)
        return READ_WRITE

    dash = create_app(redis_url, permissions=record)
    host = AsgiLogin(Starlette(routes=[Mount("/ops", app=dash)]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=host), base_url="http://testserver"
    ) as client:
        await client.get("/ops/api/queues", headers={"x-user": "staff", "X-Trace": "t1"})
        await client.post(f"/ops{PAUSE}")  # anonymous, refused later by CSRF
    await dash.state.asynq.aclose()
    first, second = seen
    assert (first.user.name, first.method, first.path) == ("staff", "GET", "/api/queues")
    assert first.headers["x-trace"] == "t1" and not first.wants_write
    assert (second.user, second.method, second.path, second.wants_write) == (
        None,
        "POST",
        "/api/queues/default:pause",
        True,
    )


async def test_read_only_wins_over_a_writer(make_web: Any, seeded: Seeded, r: redis.Redis) -> None:
    web = await make_web(read_only=True, permissions=lambda v: READ_WRITE)
    assert (await web.post(PAUSE)).status_code == 405
    page = await web.get("/")
    assert "Pause" not in page.text and 'class="badge ro"' in page.text
    assert not r.exists(keys.paused_key("default"))


async def test_auth_still_gates_before_permissions(make_web: Any, seeded: Seeded) -> None:
    asked: list[str] = []

    def permissions(viewer: Viewer) -> Access:
        asked.append(viewer.path)
        return READ_WRITE

    web = await make_web(
        with_token=False,
        auth=lambda scope: (b"x-key", b"k") in scope["headers"],
        permissions=permissions,
    )
    assert (await web.get("/api/queues")).status_code == 403
    assert asked == []
    assert (await web.get("/api/queues", headers={"x-key": "k"})).status_code == 200
    assert asked == ["/api/queues"]


async def test_the_hook_can_send_the_viewer_to_a_login_page(make_web: Any) -> None:
    def login_first(viewer: Viewer) -> Access:
        raise HTTPException(303, "log in first", headers={"Location": "/login?next=/asynq/"})

    web = await make_web(with_token=False, permissions=login_first)
    resp = await web.get("/")
    assert resp.status_code == 303 and resp.headers["location"] == "/login?next=/asynq/"


def test_write_without_read_is_refused() -> None:
    with pytest.raises(asynq.ValidationError, match="needs read"):
        Access(read=False, write=True)


# --- the WSGI form ----------------------------------------------------------------------------


@pytest.fixture
def wsgi(redis_url: str) -> Iterator[httpx.Client]:
    app = create_wsgi_app(redis_url, permissions=staff_read_superuser_write)
    transport = httpx.WSGITransport(app=WsgiLogin(app))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        yield client
    app.close()


def test_wsgi_anonymous_reader_and_writer(
    wsgi: httpx.Client, seeded: Seeded, r: redis.Redis
) -> None:
    assert wsgi.get("/").status_code == 403
    assert wsgi.get("/api/queues", headers={"x-user": "visitor"}).status_code == 403

    wsgi.headers["x-user"] = "staff"
    page = wsgi.get("/queues/default?state=pending")
    assert page.status_code == 200 and "<button" not in page.text
    resp = wsgi.post(PAUSE, headers={"X-CSRF-Token": _token(page.text)})
    assert resp.status_code == 403
    assert not r.exists(keys.paused_key("default"))

    wsgi.headers["x-user"] = "admin"
    page = wsgi.get("/queues/default?state=pending")
    assert "<button" in page.text
    resp = wsgi.post(PAUSE, headers={"X-CSRF-Token": _token(page.text)})
    assert resp.status_code == 204
    assert r.exists(keys.paused_key("default"))
