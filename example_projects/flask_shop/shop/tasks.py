"""Task functions: they run on the worker (``flask --app shop asynq worker``), each inside a
fresh app context, so ``db.session`` is theirs alone and is removed after the task."""

from __future__ import annotations

from shop.extensions import asynq, db
from shop.models import User


@asynq.task("shop:welcome", retention=3600)
def send_welcome(user_id: int) -> str:
    """Welcome a new user (a real shop would send a mail here); returns what was sent."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    user.welcomed = True
    db.session.commit()
    return f"welcome mail to {user.email}"
