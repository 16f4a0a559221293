"""The extensions, created once and bound to each app by ``create_app``."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from asynq_flask import Asynq


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
asynq = Asynq()
