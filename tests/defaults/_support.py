"""Assertions shared by the default-client tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(predicate: Callable[[], Any], within: float = 10.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (Redis drops a closed connection
    from ``CLIENT LIST`` a moment after the client closed it); return that."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s: {predicate}")
        time.sleep(0.01)


def pending(r: Any, queue: str) -> set[str]:
    """The ids of the pending tasks of ``queue``."""
    return {member.decode() for member in r.lrange(f"asynq:{{{queue}}}:pending", 0, -1)}
