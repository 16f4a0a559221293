"""What the periodic background components of a server share (forwarder, janitor...)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from asynq._base.clock import Clock
from asynq._broker.drivers import AsyncDriver


class QueueComponent:
    """Holds the driver, clock, logger, queues and interval of a background component."""

    def __init__(
        self,
        driver: AsyncDriver,
        clock: Clock,
        logger: logging.Logger,
        *,
        queues: Sequence[str],
        interval: float,
    ) -> None:
        self._driver = driver
        self._clock = clock
        self._log = logger
        self._queues = list(queues)
        self._interval = interval


async def every(
    interval: float, once: Callable[[], Awaitable[object]], *, at_once: bool = False
) -> None:
    """Await ``once()`` every ``interval`` seconds until cancelled.

    The first call is one interval after start, or right away when ``at_once``.
    """
    if at_once:
        await once()
    while True:
        await asyncio.sleep(interval)
        await once()
