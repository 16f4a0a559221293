"""The WSGI variant (``create_wsgi_app``) through httpx.WSGITransport, mounted under a prefix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

import asynq
from asynq._base import keys
from asynq.web import AsgiToWsgi, create_wsgi_app
from asynq.web._wsgi import scope_from_environ


@pytest.fixture
def wsgi(redis_url: str) -> Iterator[AsgiToWsgi]:
    app = create_wsgi_app(redis_url, title="WSGI dash")
    yield app
    app.close()


def mount(prefix: str, app: Any) -> Any:
    """What a WSGI host's mount does (e.g. werkzeug's DispatcherMiddleware)."""

    def host(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(prefix):
            start_response("404 Not Found", [("content-type", "text/plain")])
            return [b"not the dashboard"]
        environ = dict(environ, SCRIPT_NAME=prefix, PATH_INFO=path[len(prefix) :])
        return app(environ, start_response)

    return host


@pytest.fixture
def http(wsgi: AsgiToWsgi) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=mount("/asynq", wsgi))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        yield client


def test_pages_and_api_under_a_prefix(http: httpx.Client, redis_url: str) -> None:
    with asynq.Client(redis_url) as c:
        task_id = c.enqueue(asynq.Task("t", b"hello")).id
    page = http.get("/asynq/queues/default?state=pending")
    assert page.status_code == 200
    assert "WSGI dash" in page.text
    assert f'href="/asynq/queues/default/tasks/{task_id}"' in page.text
    assert http.get("/asynq/api/queues").json()["queues"][0]["queue"] == "default"
    assert http.get("/asynq/static/dashboard.js").status_code == 200
    assert http.get("/asynq/nope").status_code == 404


def test_static_files_arrive_whole(http: httpx.Client) -> None:
    """A file response streams, and listens for the client leaving meanwhile: the client may
    leave only after the last chunk."""
    from importlib.resources import files

    for name in ("dashboard.css", "dashboard.js", "favicon.svg"):
        served = http.get(f"/asynq/static/{name}")
        assert served.status_code == 200
        assert served.content == files("asynq.web").joinpath("static", name).read_bytes()


def test_form_mutation_with_csrf(http: httpx.Client, redis_url: str, r: redis.Redis) -> None:
    with asynq.Client(redis_url) as c:
        task_id = c.enqueue(asynq.Task("t")).id
    page = http.get("/asynq/queues/default?state=pending")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    url = f"/asynq/api/queues/default/pending_tasks/{task_id}:delete"
    assert http.post(url, data={"next": "/asynq/"}).status_code == 403
    assert r.exists(keys.task_key("default", task_id))
    resp = http.post(url, data={"csrf_token": token.group(1), "next": "/asynq/queues/default"})
    assert resp.status_code == 303 and resp.headers["location"] == "/asynq/queues/default"
    assert not r.exists(keys.task_key("default", task_id))


def test_read_only_over_wsgi(redis_url: str) -> None:
    app = create_wsgi_app(redis_url, read_only=True)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as http:
            assert http.post("/api/queues/default:pause").status_code == 405
            assert http.get("/").status_code == 200
    finally:
        app.close()


def test_scope_from_environ() -> None:
    scope = scope_from_environ(
        {
            "REQUEST_METHOD": "post",
            "SCRIPT_NAME": "/asynq",
            "PATH_INFO": "/queues/caf\xc3\xa9",  # WSGI: raw UTF-8 bytes as latin-1 text
            "QUERY_STRING": "state=pending",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": "2",
            "HTTP_X_CSRF_TOKEN": "tok",
            "SERVER_NAME": "example",
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": "10.0.0.1",
            "wsgi.url_scheme": "https",
        }
    )
    assert scope["method"] == "POST"
    assert (scope["root_path"], scope["path"]) == ("/asynq", "/asynq/queues/café")
    assert scope["query_string"] == b"state=pending"
    assert (b"x-csrf-token", b"tok") in scope["headers"]
    assert (b"content-type", b"application/json") in scope["headers"]
    assert scope["scheme"] == "https" and scope["server"] == ("example", 8000)


def test_progress_answers_the_current_state_and_lets_the_browser_ask_again(
    http: httpx.Client, redis_url: str
) -> None:
    # A WSGI host sends a response only once it is complete: a stream that lasts as long as the
    # task would hold the host's worker all that time (this test would hang) and show nothing.
    with asynq.Client(redis_url) as c:
        task_id = c.enqueue(asynq.Task("t", b"hello")).id
    resp = http.get(f"/asynq/api/queues/default/tasks/{task_id}/progress")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.text.startswith("retry: 2000\n\n")
    assert resp.text.count("event: update\n") == 1 and '"state":"pending"' in resp.text
    assert http.get("/asynq/api/queues/default/tasks/nope/progress").status_code == 404
