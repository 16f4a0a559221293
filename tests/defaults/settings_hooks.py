"""Callbacks named by import path in the settings-mapping tests."""

from __future__ import annotations

from typing import Any

import asynq

#: The errors the error handler saw, as (task id, message).
errors: list[tuple[str, str]] = []


def record_error(task: Any, exc: BaseException) -> None:
    errors.append((task.id, str(exc)))


def one_hour(retried: int, exc: BaseException, task: asynq.Task) -> float:
    return 3600.0


def never_a_failure(exc: BaseException) -> bool:
    return False


class Digest:
    def aggregate(self, group: str, tasks: list[asynq.Task]) -> asynq.Task:
        return asynq.Task("digest", b"%d" % len(tasks))


digest = Digest()
