"""A Flask app guarding the asynq dashboard blueprint with Flask-Login: anonymous visitors are
sent to the login page, ``staff`` may look, ``admin`` may act. ``/login?name=...`` logs in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, redirect, request
from flask_login import LoginManager, UserMixin, login_user

from asynq.web import DENY, READ, READ_WRITE, Access, HTTPException, Viewer
from asynq_flask import Asynq, dashboard_blueprint

USERS = {"staff": False, "admin": True}


@dataclass
class User(UserMixin):  # type: ignore[misc]
    id: str
    is_admin: bool


def permissions(viewer: Viewer) -> Access:
    user = viewer.user
    if not user.is_authenticated:
        # Flask-Login's login_required, for the dashboard: off to the login page.
        raise HTTPException(303, headers={"Location": "/login"})
    return READ_WRITE if user.is_admin else READ


def create_app(redis_url: str, url_prefix: str = "/admin/asynq", **config: Any) -> Flask:
    app = Flask("admin")
    app.config.update(SECRET_KEY="test only", ASYNQ_REDIS_URL=redis_url, **config)
    Asynq(app)
    login = LoginManager(app)

    @login.user_loader
    def load(user_id: str) -> User | None:
        return User(user_id, USERS[user_id]) if user_id in USERS else None

    @app.get("/login")
    def log_in() -> Any:
        name = request.args.get("name", "")
        if name not in USERS:
            return "who are you?", 200
        login_user(User(name, USERS[name]))
        return redirect(url_prefix + "/")

    app.register_blueprint(
        dashboard_blueprint(permissions=permissions, refresh_interval=0), url_prefix=url_prefix
    )
    return app


__all__ = ["DENY", "create_app"]
