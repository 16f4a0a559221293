"""CSRF protection: a signed double-submit token.

The browser holds a random value in an HttpOnly, SameSite=Strict cookie. Pages embed the token
``HMAC-SHA256(secret, cookie value)`` in every form (field ``csrf_token``) and in a
``<meta name="csrf-token">`` tag for scripts (header ``X-CSRF-Token``). A mutation is accepted only
when the submitted token matches the cookie under this app's secret: another site can neither
read the cookie nor compute the token, and a planted cookie is useless without the secret.

Each app gets a random secret unless one is given; pass the same ``csrf_secret`` to every process
when several serve the dashboard behind one address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

COOKIE = "asynq_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Csrf:
    """Issues and checks tokens for one dashboard app.

    Args:
        secret: Key of the HMAC; random per app when ``None``.
    """

    def __init__(self, secret: bytes | str | None = None) -> None:
        if isinstance(secret, str):
            secret = secret.encode()
        self._secret = secret or secrets.token_bytes(32)

    @staticmethod
    def new_cookie() -> str:
        """A fresh random cookie value."""
        return _b64(secrets.token_bytes(24))

    def token(self, cookie: str) -> str:
        """The token that matches ``cookie``."""
        return _b64(hmac.new(self._secret, cookie.encode(), hashlib.sha256).digest())

    def check(self, cookie: str | None, submitted: str | None) -> bool:
        """Whether ``submitted`` is the token of ``cookie`` (constant-time comparison)."""
        if not cookie or not submitted:
            return False
        return hmac.compare_digest(self.token(cookie), submitted)
