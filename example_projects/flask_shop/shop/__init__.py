"""A small Flask shop on asynq: signing up welcomes the user from a worker, after the commit."""

from shop.app import create_app

__all__ = ["create_app"]
