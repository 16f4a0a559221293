"""The app factory: ``flask --app shop run`` / ``flask --app shop asynq worker``."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from sqlalchemy.exc import IntegrityError

from asynq.web import DENY, READ_WRITE, Access, Viewer
from asynq_flask import dashboard_blueprint
from shop.extensions import asynq, db
from shop.models import User
from shop.tasks import send_welcome


def local_only(viewer: Viewer) -> Access:
    """Who may use the dashboard: requests from this machine only. A real app would judge
    ``viewer.user`` (Flask-Login's current user) instead."""
    client = viewer.scope.get("client") or ("", 0)
    return READ_WRITE if client[0] in ("127.0.0.1", "::1") else DENY


def create_app(**config: Any) -> Flask:
    app = Flask("shop")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get("SHOP_DATABASE_URL", "sqlite:///shop.db"),
        ASYNQ_REDIS_URL=os.environ.get("ASYNQ_REDIS_URL"),
        ASYNQ_QUEUES={"default": 1},
        ASYNQ_CONCURRENCY=4,
    )
    app.config.update(config)
    db.init_app(app)
    asynq.init_app(app)
    app.register_blueprint(dashboard_blueprint(permissions=local_only), url_prefix="/asynq")

    @app.post("/users")
    def sign_up() -> Any:
        user = User(email=request.form["email"])
        db.session.add(user)
        try:
            db.session.flush()  # user.id is known from here
            asynq.enqueue_on_commit(send_welcome, user.id)  # sent once the commit succeeds
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the welcome is dropped with the row
            return {"error": "this email has signed up already"}, 409
        return {"id": user.id}, 201

    @app.get("/users/<int:user_id>")
    def show_user(user_id: int) -> Any:
        user = db.get_or_404(User, user_id)
        return {"id": user.id, "email": user.email, "welcomed": user.welcomed}

    with app.app_context():
        db.create_all()
    return app
