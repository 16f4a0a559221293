"""Run the async client/inspector from synchronous test bodies, so one test body covers both.

Test-only: each facade owns a private event loop. The library never does this.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


class SyncFacade:
    """Wraps an object with ``async`` methods and runs each call to completion on its own loop."""

    def __init__(self, factory: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._target = self._loop.run_until_complete(_build(factory))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            return result

        return call

    def run_on_loop(self, awaitable: Any) -> Any:
        """Await ``awaitable`` on this facade's loop (e.g. to close a redis client made for it)."""
        return self._loop.run_until_complete(awaitable)

    def close(self) -> None:
        self.__getattr__("close")()
        self._loop.close()


async def _build(factory: Any) -> Any:
    # redis.asyncio clients must be created inside the loop that will use them.
    return factory()
