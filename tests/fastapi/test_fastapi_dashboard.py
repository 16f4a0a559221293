"""The dashboard as an APIRouter, through FastAPI's TestClient on a real Redis: the app's
dependency refuses strangers before the dashboard sees them, the user it names reaches the
permissions hook, pages, JSON API and static files live under the prefix, actions reach Redis."""

from __future__ import annotations

from typing import Annotated

import pytest
import redis
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

import asynq
from asynq.web import DENY, READ, READ_WRITE, Access, Viewer
from asynq_fastapi import asynq_dashboard_router, asynq_lifespan

TOKENS = {"t-admin": "admin", "t-staff": "staff"}


def current_user(x_token: Annotated[str | None, Header()] = None) -> str:
    user = TOKENS.get(x_token or "")
    if user is None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Token"})
    return user


def staff_look_admins_act(viewer: Viewer) -> Access:
    return {"admin": READ_WRITE, "staff": READ}.get(viewer.user, DENY)


def dashboard_app(redis_url: str, lifespan: object = None, **router_options: object) -> FastAPI:
    app = FastAPI(lifespan=lifespan or asynq_lifespan(redis_url))  # type: ignore[arg-type]
    app.include_router(
        asynq_dashboard_router(
            prefix="/admin/asynq",
            dependencies=[Depends(current_user)],
            user=current_user,
            permissions=staff_look_admins_act,
            refresh_interval=0,
            **router_options,  # type: ignore[arg-type]
        )
    )

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"home": "page"}

    return app


@pytest.fixture
def seeded(redis_url: str) -> str:
    with asynq.Client(redis_url) as client:
        client.enqueue(asynq.Task("dash:seen", b"hello"), queue="mail")
    return redis_url


def post(http: TestClient, path: str, token: str) -> int:
    headers = {"x-token": token}
    csrf = http.get("/admin/asynq/api/csrf", headers=headers).json()["token"]
    return http.post(path, headers={**headers, "x-csrf-token": csrf}).status_code


def test_an_unauthenticated_request_is_refused(seeded: str) -> None:
    with TestClient(dashboard_app(seeded)) as http:
        for path in (
            "/admin/asynq/",
            "/admin/asynq/api/queues",
            "/admin/asynq/static/dashboard.css",
        ):
            answer = http.get(path)
            assert answer.status_code == 401, path
            assert answer.json() == {"detail": "log in first"}
            assert answer.headers["www-authenticate"] == "Token"
        assert http.post("/admin/asynq/api/queues/mail:pause").status_code == 401
        assert http.get("/").json() == {"home": "page"}  # the rest of the app is untouched


def test_pages_api_and_static_files_under_the_prefix(seeded: str) -> None:
    with TestClient(dashboard_app(seeded)) as http:
        headers = {"x-token": "t-staff"}
        index = http.get("/admin/asynq/", headers=headers)
        assert index.status_code == 200
        assert 'href="/admin/asynq/queues/mail"' in index.text
        assert 'href="/admin/asynq/static/' in index.text
        queues = http.get("/admin/asynq/api/queues", headers=headers).json()
        assert [q["queue"] for q in queues["queues"]] == ["mail"]
        page = http.get("/admin/asynq/queues/mail?state=pending", headers=headers)
        assert "dash:seen" in page.text
        static = http.get("/admin/asynq/static/dashboard.css", headers=headers)
        assert static.status_code == 200
        assert static.headers["content-type"].startswith("text/css")
        missing = http.get("/admin/asynq/api/queues/mail/tasks/nope/progress", headers=headers)
        assert missing.status_code == 404
        assert "nope" in missing.json()["error"]
        bare = http.get("/admin/asynq", headers=headers, follow_redirects=False)
        assert bare.status_code == 307
        assert bare.headers["location"].endswith("/admin/asynq/")


def test_the_user_reaches_the_permissions_hook(seeded: str, r: redis.Redis) -> None:
    with TestClient(dashboard_app(seeded)) as http:
        pause = "/admin/asynq/api/queues/mail:pause"
        assert post(http, pause, "t-staff") == 403  # may look, not act
        assert r.exists("asynq:{mail}:paused") == 0
        assert post(http, pause, "t-admin") == 204
        assert r.exists("asynq:{mail}:paused") == 1
        staff_page = http.get("/admin/asynq/queues/mail", headers={"x-token": "t-staff"}).text
        admin_page = http.get("/admin/asynq/queues/mail", headers={"x-token": "t-admin"}).text
        assert ":resume" not in staff_page  # no action buttons for who may not act
        assert ":resume" in admin_page


def others(r: redis.Redis) -> list[dict[str, object]]:
    """The connections to Redis other than the one asking."""
    return [c for c in r.client_list() if c["id"] != str(r.client_id())]


def test_a_dashboard_on_its_own_connection_needs_no_lifespan(seeded: str, r: redis.Redis) -> None:
    app = FastAPI()
    app.include_router(asynq_dashboard_router(seeded, refresh_interval=0))
    with TestClient(app) as http:
        queues = http.get("/asynq/api/queues").json()
        assert others(r) != []  # the dashboard's own connection...
    assert [q["queue"] for q in queues["queues"]] == ["mail"]
    assert others(r) == []  # ...closed by the app's lifespan, which the router joined


def test_a_bad_prefix_is_refused() -> None:
    with pytest.raises(asynq.ValidationError, match="prefix"):
        asynq_dashboard_router(prefix="asynq/")
