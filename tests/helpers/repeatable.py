"""What comparing two runs of the same producer workload needs: the same task ids in both, and
Redis' exact state after each."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import asynq.client


def counted_task_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make the clients draw task ids from a counter, so two runs of the same workload write
    the same keys; call the returned function to start the count again."""
    counter = [itertools.count()]

    def one() -> str:
        return str(uuid.UUID(int=next(counter[0]), version=4))

    monkeypatch.setattr(asynq.client, "new_task_id", one)
    monkeypatch.setattr(asynq.client, "new_task_ids", lambda n: (one() for _ in range(n)))
    return lambda: counter.__setitem__(0, itertools.count())


def redis_state(r: Any) -> dict[bytes, tuple[bytes, bytes, int]]:
    """Every key with its type, DUMP bytes (the exact stored encoding) and TTL."""
    return {key: (r.type(key), r.dump(key), r.ttl(key)) for key in sorted(r.keys("*"))}
