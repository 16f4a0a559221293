"""The dashboard blueprint through Flask's test client: Flask-Login users judged by the
permissions hook, CSRF on mutations, the url_prefix (and the app's mount point) in every link."""

from __future__ import annotations

import re

import pytest
import redis
from flask import Flask, request
from flask.testing import FlaskClient

import asynq
from asynq_flask import Asynq, dashboard_blueprint
from tests.flask_adapter import admin


@pytest.fixture
def app(redis_url: str) -> Flask:
    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("report"), queue="reports")
    return admin.create_app(redis_url)


def csrf_token(client: FlaskClient, prefix: str = "/admin/asynq") -> str:
    response = client.get(f"{prefix}/api/csrf")
    assert response.status_code == 200
    return str(response.json["token"])  # type: ignore[index]


def test_anonymous_visitors_are_sent_to_the_login_page(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/admin/asynq/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert client.post("/admin/asynq/api/queues/reports:pause").status_code == 303


def test_staff_may_look_but_not_act(app: Flask, r: redis.Redis) -> None:
    client = app.test_client()
    client.get("/login?name=staff")
    page = client.get("/admin/asynq/")
    assert page.status_code == 200
    assert b"reports" in page.data
    assert b">Pause<" not in page.data  # no action buttons for a reader
    token = csrf_token(client)
    refused = client.post("/admin/asynq/api/queues/reports:pause", headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    assert not r.exists("asynq:{reports}:paused")


def test_admins_act_with_the_csrf_token_only(app: Flask, r: redis.Redis) -> None:
    client = app.test_client()
    client.get("/login?name=admin")
    assert b">Pause<" in client.get("/admin/asynq/").data
    forged = client.post("/admin/asynq/api/queues/reports:pause")
    assert forged.status_code == 403
    assert not r.exists("asynq:{reports}:paused")

    token = csrf_token(client)
    done = client.post("/admin/asynq/api/queues/reports:pause", headers={"X-CSRF-Token": token})
    assert done.status_code == 204, done.data
    assert r.exists("asynq:{reports}:paused")


def test_forms_post_even_when_the_app_read_the_body_first(app: Flask, r: redis.Redis) -> None:
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.form.get("csrf_token", "")) and None)
    client = app.test_client()
    client.get("/login?name=admin")
    page = client.get("/admin/asynq/").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    posted = client.post(
        "/admin/asynq/api/queues/reports:pause",
        data={"csrf_token": token.group(1), "next": "/admin/asynq/"},
    )
    assert posted.status_code == 303, posted.data
    assert posted.headers["Location"].endswith("/admin/asynq/")
    assert seen[-1] == token.group(1)  # the app's hook read the form...
    assert r.exists("asynq:{reports}:paused")  # ...and the dashboard still got it


def test_every_link_carries_the_prefix_and_the_mount_point(redis_url: str) -> None:
    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("report"), queue="reports")
    app = admin.create_app(redis_url, url_prefix="/ops/queues")
    client = app.test_client()
    site = "http://localhost/site"  # the app itself mounted under /site (SCRIPT_NAME)
    client.get("/login?name=admin", base_url=site)
    cookies = []
    for path in ["/", "/queues/reports", "/servers", "/redis"]:
        page = client.get("/ops/queues" + path, base_url=site)
        assert page.status_code == 200, path
        cookies += page.headers.getlist("Set-Cookie")
        links = re.findall(rb'(?:href|src|action)="([^"#]*)"', page.data)
        assert links, path
        local = [link for link in links if not link.startswith((b"http", b"?"))]
        assert local and all(link.startswith(b"/site/ops/queues/") for link in local), local
    assert cookies and all("Path=/site/ops/queues" in cookie for cookie in cookies), cookies


def test_without_a_permissions_hook_only_debug_mode_opens_it(redis_url: str) -> None:
    for debug, status in [(False, 403), (True, 200)]:
        app = Flask("bare")
        app.config.update(ASYNQ_REDIS_URL=redis_url, DEBUG=debug)
        Asynq(app)
        app.register_blueprint(dashboard_blueprint(), url_prefix="/asynq")
        assert app.test_client().get("/asynq/").status_code == status


def test_an_app_without_the_extension_is_told_so() -> None:
    app = Flask("stranger")
    with pytest.raises(RuntimeError, match="has no asynq extension"):
        app.register_blueprint(dashboard_blueprint(), url_prefix="/asynq")
