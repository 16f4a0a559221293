"""CSRF, read-only mode, the authentication hook, form redirects, prefixes and app isolation."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount

import asynq
from asynq._base import keys
from asynq.web import bearer_token_auth, create_app
from tests.web._seed import Seeded

MakeWeb = Callable[..., Awaitable[httpx.AsyncClient]]


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def test_mutation_without_token_is_rejected(
    make_web: MakeWeb, seeded: Seeded, r: redis.Redis
) -> None:
    web = await make_web(with_token=False)
    await web.get("/")  # has the cookie, but sends no token
    url = f"/api/queues/default/pending_tasks/{seeded.ids['pending']}:delete"
    resp = await web.post(url)
    assert resp.status_code == 403 and "CSRF" in resp.json()["error"]
    resp = await web.post(url, headers={"X-CSRF-Token": "forged"})
    assert resp.status_code == 403
    resp = await web.post(url, data={"csrf_token": "forged"})
    assert resp.status_code == 403
    assert (await web.post("/api/queues/default:pause")).status_code == 403
    assert (await web.delete("/api/queues/default?force=true")).status_code == 403
    assert r.exists(keys.task_key("default", seeded.ids["pending"]))
    assert not r.exists(keys.paused_key("default"))
    assert r.sismember(keys.ALL_QUEUES, "default")


async def test_token_needs_the_matching_cookie_and_secret(
    make_web: MakeWeb, seeded: Seeded, r: redis.Redis
) -> None:
    first = await make_web(csrf_secret="one")
    other = await make_web(csrf_secret="two", with_token=False)
    await other.get("/api/csrf")
    # A token minted by another app (another secret) is refused, even with its cookie:
    for name, value in first.cookies.items():
        other.cookies.set(name, value)
    resp = await other.post("/api/queues/default:pause", headers=dict(first.headers))
    assert resp.status_code == 403
    # A valid token without its cookie is refused too:
    bare = await make_web(csrf_secret="one", with_token=False)
    resp = await bare.post(
        "/api/queues/default:pause", headers={"X-CSRF-Token": first.headers["X-CSRF-Token"]}
    )
    assert resp.status_code == 403
    assert not r.exists(keys.paused_key("default"))
    # The same secret in another process accepts the pair (shared csrf_secret):
    twin = await make_web(csrf_secret="one", with_token=False)
    for name, value in first.cookies.items():
        twin.cookies.set(name, value)
    resp = await twin.post("/api/queues/default:pause", headers=dict(first.headers))
    assert resp.status_code == 204


async def test_form_post_with_page_token_redirects_with_flash(
    make_web: MakeWeb, seeded: Seeded, r: redis.Redis
) -> None:
    web = await make_web(with_token=False)
    page = await web.get("/queues/default?state=pending")
    form = {"csrf_token": _token(page.text), "next": "/queues/default?state=pending"}
    url = f"/api/queues/default/pending_tasks/{seeded.ids['pending']}:archive"
    resp = await web.post(url, data=form)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/queues/default?state=pending"
    assert r.zscore(keys.archived_key("default"), seeded.ids["pending"]) is not None
    after = await web.get(resp.headers["location"])
    assert "archived" in after.text and 'class="flash ok"' in after.text
    # The flash shows once:
    assert 'class="flash' not in (await web.get("/queues/default?state=pending")).text
    # Errors come back as a flash too, and an off-site "next" is ignored:
    resp = await web.post(
        "/api/queues/default/pending_tasks/nope:delete",
        data={**form, "next": "https://evil.example/"},
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    assert 'class="flash error"' in (await web.get("/")).text
    for off_site in ("//evil.example/", "/\t/evil.example", "/\\evil.example", "evil"):
        resp = await web.post("/api/queues/default:pause", data={**form, "next": off_site})
        assert resp.headers["location"] == "/", off_site


async def test_batch_form_with_checkboxes(
    make_web: MakeWeb, redis_url: str, r: redis.Redis
) -> None:
    with asynq.Client(redis_url) as c:
        ids = [c.enqueue(asynq.Task("t")).id for _ in range(3)]
    web = await make_web(with_token=False)
    token = _token((await web.get("/queues/default?state=pending")).text)
    resp = await web.post(
        "/api/queues/default/pending_tasks:batch_delete",
        data={"csrf_token": token, "task_id": ids[:2], "next": "/queues/default"},
    )
    assert resp.status_code == 303
    assert r.lrange(keys.pending_key("default"), 0, -1) == [ids[2].encode()]


async def test_read_only_rejects_every_mutation(
    make_web: MakeWeb, seeded: Seeded, r: redis.Redis
) -> None:
    web = await make_web(read_only=True)
    for method, url in [
        ("POST", "/api/queues/default:pause"),
        ("DELETE", "/api/queues/default"),
        ("POST", f"/api/queues/default/pending_tasks/{seeded.ids['pending']}:delete"),
        ("POST", "/api/queues/default/scheduled_tasks:run_all"),
        ("PUT", "/api/queues/default"),
    ]:
        resp = await web.request(method, url)
        assert resp.status_code == 405, (method, url)
    assert r.exists(keys.task_key("default", seeded.ids["pending"]))
    assert not r.exists(keys.paused_key("default"))
    page = await web.get("/queues/default?state=pending")
    assert page.status_code == 200 and "read-only" in page.text
    assert "formaction" not in page.text and "Pause" not in page.text
    assert (await web.get("/api/queues")).status_code == 200


async def test_auth_hook(make_web: MakeWeb, seeded: Seeded) -> None:
    seen: list[str] = []

    def deny_without_header(scope: Any) -> bool:
        seen.append(scope["path"])
        return (b"x-user", b"admin") in scope["headers"]

    web = await make_web(auth=deny_without_header, with_token=False)
    assert (await web.get("/")).status_code == 403
    assert (await web.get("/static/dashboard.css")).status_code == 403
    assert (await web.get("/", headers={"x-user": "admin"})).status_code == 200
    assert seen[:2] == ["/", "/static/dashboard.css"]

    async def basic(scope: Any) -> bool:
        raise HTTPException(401, "login", headers={"WWW-Authenticate": 'Basic realm="asynq"'})

    web = await make_web(auth=basic, with_token=False)
    resp = await web.get("/api/queues")
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == 'Basic realm="asynq"'

    web = await make_web(auth=bearer_token_auth("s3cret"), with_token=False)
    assert (await web.get("/metrics")).status_code == 403
    ok = await web.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


async def test_root_path_prefixes_every_link(make_web: MakeWeb, seeded: Seeded) -> None:
    web = await make_web(root_path="/ops/asynq", with_token=False)
    page = await web.get("/")
    assert page.status_code == 200
    assert 'href="/ops/asynq/queues/default"' in page.text
    assert 'src="/ops/asynq/static/dashboard.js' in page.text
    assert 'action="/ops/asynq/api/queues/default:pause"' in page.text
    assert "Path=/ops/asynq" in page.headers["set-cookie"]


async def test_mounted_in_another_app(redis_url: str, seeded: Seeded, r: redis.Redis) -> None:
    dash = create_app(redis_url)
    outer = Starlette(routes=[Mount("/asynq", app=dash)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=outer), base_url="http://testserver"
    ) as web:
        page = await web.get("/asynq/queues/default?state=pending")
        assert page.status_code == 200
        assert f'href="/asynq/queues/default/tasks/{seeded.ids["pending"]}"' in page.text
        resp = await web.post(
            "/asynq/api/queues/default:pause",
            data={"csrf_token": _token(page.text), "next": "/asynq/"},
        )
        assert resp.status_code == 303 and resp.headers["location"] == "/asynq/"
        assert r.exists(keys.paused_key("default"))
        assert (await web.get("/asynq/static/dashboard.css")).status_code == 200
    await dash.state.asynq.aclose()


async def test_apps_keep_their_own_state(make_web: MakeWeb, redis_url: str, r: redis.Redis) -> None:
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    other_db = redis.Redis.from_url(base + "/7")
    other_db.flushdb()
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("t"), queue="in-db-0")
    with asynq.Client(base + "/7") as c:
        c.enqueue(asynq.Task("t"), queue="in-db-7")
    a = await make_web(title="First")
    b = await make_web(inspector_or_redis=base + "/7", title="Second", read_only=True)
    assert [q["queue"] for q in (await a.get("/api/queues")).json()["queues"]] == ["in-db-0"]
    assert [q["queue"] for q in (await b.get("/api/queues")).json()["queues"]] == ["in-db-7"]
    assert "First" in (await a.get("/")).text and "Second" in (await b.get("/")).text
    assert (await a.post("/api/queues/in-db-0:pause")).status_code == 204
    assert (await b.post("/api/queues/in-db-7:pause")).status_code == 405
    other_db.flushdb()
    other_db.close()


async def test_an_async_inspector_stays_owned_by_the_caller(redis_url: str, seeded: Seeded) -> None:
    from asynq.inspector import AsyncInspector

    insp = AsyncInspector(redis_url)
    app = create_app(insp)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as web:
        assert (await web.get("/api/queues")).status_code == 200
    await app.state.asynq.aclose()
    assert await insp.queues() == ["default"]  # still open
    await insp.close()


def test_a_blocking_inspector_is_refused(redis_url: str) -> None:
    from asynq.inspector import Inspector

    with Inspector(redis_url) as insp, pytest.raises(asynq.ValidationError, match="AsyncInspector"):
        create_app(insp)


async def test_security_headers_and_cookie_flags(make_web: MakeWeb) -> None:
    web = await make_web(with_token=False)
    resp = await web.get("/")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["x-frame-options"] == "SAMEORIGIN"
    assert resp.headers["referrer-policy"] == "same-origin"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("asynq_csrf=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


async def test_allowed_hosts_refuse_other_names(
    make_web: MakeWeb, seeded: Seeded, r: redis.Redis
) -> None:
    # A page of another site reaches a local dashboard through a name of its own (DNS
    # rebinding): the Host header is all that tells the requests apart.
    web = await make_web(allowed_hosts=["dash.example", ".corp.example"], with_token=False)
    for host in ("dash.example", "DASH.example:8080", "corp.example", "a.b.corp.example:1"):
        assert (await web.get("/", headers={"host": host})).status_code == 200, host
    for host in ("testserver", "evil.example", "dash.example.evil", "xcorp.example", ""):
        resp = await web.get("/api/queues", headers={"host": host})
        assert resp.status_code == 400, host
        assert resp.headers["x-frame-options"] == "SAMEORIGIN"
        assert "default" not in resp.text
    token = (await web.get("/api/csrf", headers={"host": "dash.example"})).json()["token"]
    resp = await web.post(
        "/api/queues/default:pause", headers={"host": "evil.example", "x-csrf-token": token}
    )
    assert resp.status_code == 400
    assert not r.exists(keys.paused_key("default"))
    ipv6 = await make_web(allowed_hosts=["::1"], with_token=False)
    assert (await ipv6.get("/", headers={"host": "[::1]:8080"})).status_code == 200
    anyone = await make_web(allowed_hosts="*", with_token=False)
    assert (await anyone.get("/", headers={"host": "whatever"})).status_code == 200


@pytest.mark.parametrize("hosts", [[], [""], ["  "], [None]])
def test_allowed_hosts_must_be_names(redis_url: str, hosts: Any) -> None:
    with pytest.raises(asynq.ValidationError, match="allowed_hosts"):
        create_app(redis_url, allowed_hosts=hosts)


async def test_cookies_are_secure_over_https(redis_url: str, seeded: Seeded) -> None:
    app = create_app(redis_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://dash.example") as web:
        page = await web.get("/queues/default?state=pending")
        assert "; secure" in page.headers["set-cookie"].lower()
        form = {"csrf_token": _token(page.text), "next": "/"}
        resp = await web.post("/api/queues/default:pause", data=form)
        flash = resp.headers["set-cookie"]
        assert flash.startswith("asynq_flash=") and "; secure" in flash.lower()
        assert "httponly" in flash.lower() and "samesite=strict" in flash.lower()
    await app.state.asynq.aclose()
