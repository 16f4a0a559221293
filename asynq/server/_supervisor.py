"""Runs the server's background components and decides what a crash of one of them means.

Every component runs in an asyncio task that the :class:`Supervisor` owns from start to
shutdown: none is left running unobserved, and none outlives :meth:`Supervisor.stop_all`.
A component that raises is never just logged and forgotten (a server that heartbeats as
active while its fetch loop is dead would hold on to work it never does). Its
:class:`CrashPolicy` says what happens instead:

- ``RESTART``: log the crash with its traceback and run the component again after an
  exponential backoff (:data:`RESTART_BACKOFF`: 1 s, doubling, capped at 30 s; the count starts
  over once the component has run for the cap without crashing). Every restart is logged, so a
  component that keeps crashing is visible, and the backoff keeps it from spinning.
- ``STOP``: log the crash and hand it to the server (``on_fatal``), which shuts down
  gracefully, requeues the tasks in flight, and makes ``serve()`` raise
  :class:`~asynq.errors.ServerCrashedError` (so ``run()`` exits non-zero).

The supervisor does not use :class:`asyncio.TaskGroup` because a fatal crash must not cancel
the other components at once: the server stops them one by one in Go's shutdown order (the
heartbeat, for one, keeps the leases of the running tasks until they are requeued).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asynq._base.stopping import cancel_and_wait

__all__ = ["RESTART_BACKOFF", "Backoff", "CrashPolicy", "Supervisor"]


class CrashPolicy(enum.Enum):
    """What a crash of a component leads to."""

    RESTART = "restart"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before the n-th restart in a row: ``first * 2**(n-1)`` seconds, at most ``cap``."""

    first: float
    cap: float

    def delay(self, crashes: int) -> float:
        """The delay before restarting after ``crashes`` crashes in a row (1 or more)."""
        return min(self.cap, self.first * float(2 ** min(crashes - 1, 62)))


#: The backoff of restarted components (tests make it shorter).
RESTART_BACKOFF = Backoff(first=1.0, cap=30.0)


class Supervisor:
    """Owns the component tasks of one server.

    Args:
        logger: Where crashes and restarts are logged.
        on_fatal: Called with the component name and the error when a ``STOP`` component
            crashes (on the event loop, once per such crash).
        backoff: Delays between restarts of ``RESTART`` components.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        on_fatal: Callable[[str, BaseException], None],
        backoff: Backoff,
    ) -> None:
        self._log = logger
        self._on_fatal = on_fatal
        self._backoff = backoff
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, policy: CrashPolicy, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` as the component ``name`` under ``policy``."""
        if name in self._tasks:
            raise RuntimeError(f"component {name} is already running")
        self._tasks[name] = asyncio.create_task(
            self._supervise(name, policy, run), name=f"asynq-{name}"
        )

    def running(self, name: str) -> bool:
        """Whether the component ``name`` is started and not finished (restarting counts)."""
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def _supervise(
        self, name: str, policy: CrashPolicy, run: Callable[[], Awaitable[None]]
    ) -> None:
        loop = asyncio.get_running_loop()
        crashes = 0
        while True:
            started = loop.time()
            try:
                await run()
                return  # a component that returns has finished its work (a stopped processor)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc
            if policy is CrashPolicy.STOP:
                self._log.error(
                    "asynq server component %s crashed; shutting the server down",
                    name,
                    exc_info=error,
                )
                self._on_fatal(name, error)
                return
            if loop.time() - started >= self._backoff.cap:
                crashes = 0  # it ran well for a while: this is a new run of crashes
            crashes += 1
            delay = self._backoff.delay(crashes)
            self._log.error(
                "asynq server component %s crashed (%d in a row); restarting it in %gs",
                name,
                crashes,
                delay,
                exc_info=error,
            )
            del error  # the traceback holds frames of the crashed run
            await asyncio.sleep(delay)
            self._log.info("Restarting asynq server component %s", name)

    async def stop(self, name: str) -> None:
        """Cancel the component ``name`` (if it runs) and wait until it has ended."""
        task = self._tasks.pop(name, None)
        if task is None:
            return
        await cancel_and_wait(task)  # repeats a cancellation the component lost
        if not task.cancelled() and task.exception() is not None:
            self._log.error("asynq server component %s failed", name, exc_info=task.exception())

    async def stop_all(self) -> None:
        """Stop every component still running, in the order they were started."""
        for name in list(self._tasks):
            await self.stop(name)
