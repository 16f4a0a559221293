"""Stopping a background task for good, even when a cancellation gets lost on its way.

A service stops its loops (a heartbeat, a cron loop, a periodic sync) by cancelling their tasks
and waiting for them to end. A single ``cancel()`` is not enough: on Python 3.11,
``asyncio.wait_for`` returns the result instead of raising ``CancelledError`` when the
operation it waits for has just finished as the cancellation arrives, so the task goes on as if
it had never been cancelled. redis-py waits that way while it sends a command on a connection
with a socket timeout (its default), for one while a new connection introduces itself, so a
loop cancelled during its first call to Redis can lose the cancellation, go round again and
keep whoever waits for it waiting forever. :func:`cancel_and_wait` therefore cancels the task
again until it has ended.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

__all__ = ["RECANCEL_AFTER", "cancel_and_wait"]

#: Seconds to wait for a cancelled task to end before cancelling it again.
RECANCEL_AFTER: Final = 0.1


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and return once it has ended, cancelling it again every
    :data:`RECANCEL_AFTER` seconds while it runs on (see the module docstring).

    The task's own outcome (a result, an error) is left for its owner to look at; a
    cancellation of the caller is not swallowed.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_AFTER)
