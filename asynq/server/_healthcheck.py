"""Pings Redis and reports the result to ``Config.health_check_func`` (Go's
``healthchecker``)."""

from __future__ import annotations

import asyncio
import inspect
import logging

from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq.errors import AsynqError
from asynq.server._config import HealthCheckFunc


class HealthChecker:
    """Every interval (first after one interval): ``PING``, then ``func(None | error)``."""

    def __init__(
        self,
        driver: AsyncDriver,
        logger: logging.Logger,
        *,
        func: HealthCheckFunc,
        interval: float,
    ) -> None:
        self._driver = driver
        self._log = logger
        self._func = func
        self._interval = interval

    async def run(self) -> None:
        """Check every interval until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.check_once()

    async def check_once(self) -> None:
        """Ping once and report."""
        error: AsynqError | None = None
        try:
            await self._driver.run(server_ops.ping())
        except AsynqError as exc:
            error = exc
        try:
            result = self._func(error)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self._log.exception("health check function failed")
