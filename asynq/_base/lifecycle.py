"""The lifecycle every long-running asynq service shares: the worker :class:`~asynq.server.Server`,
the :class:`~asynq.scheduler.Scheduler` and the :class:`~asynq.periodic.PeriodicTaskManager`.

States: ``new`` -> ``active`` (-> ``stopped``, a server told to stop taking tasks) -> ``closed``.

- The service's own ``start`` checks its state, calls :meth:`Service._activate` and starts its
  background work.
- :meth:`Service.shutdown` runs the service's ``_shut_down`` once; concurrent and later calls
  share it. A shutdown can also be requested without waiting (:meth:`Service._request_shutdown`,
  from a signal handler) or caused by a failure (:meth:`Service._fail`, a crashed part of the
  service).
- ``serve`` starts, waits until a shutdown is requested, shuts down, and then raises the failure
  that caused the shutdown, if there was one. Cancelling it shuts down too.
- ``run`` is ``serve`` on a new event loop with the signal handlers of :func:`signal_handlers`:
  the first ``SIGTERM``/``SIGINT`` shuts down gracefully, the second hurries the shutdown
  (:meth:`Service._hurry`: a server requeues its running tasks at once), later ones are ignored;
  ``SIGTSTP`` runs :meth:`Service._suspend_action` for a service that has one (a server stops taking
  tasks). Where the loop cannot handle signals (an event loop without signal support, or a
  thread other than the main one) ``run`` goes on without them and says so in the log.

Nothing here imports the rest of asynq: the services plug in their own start, shutdown,
hurry and suspend steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import ClassVar

__all__ = [
    "ACTIVE",
    "CLOSED",
    "NEW",
    "STOPPED",
    "Service",
    "default_logging",
    "hostname",
    "signal_handlers",
]

NEW, ACTIVE, STOPPED, CLOSED = "new", "active", "stopped", "closed"

_LOG_FORMAT = "asynq: pid=%(process)d %(asctime)s %(levelname)s: %(message)s"


def default_logging(log: logging.Logger) -> None:
    """Log INFO and above to stderr, as Go's default logger does, when the program configured
    no logging at all (neither the root logger nor ``log`` has a handler)."""
    if not logging.getLogger().handlers and not log.handlers:
        logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)


def hostname() -> str:
    """This machine's host name, as published in Redis keys (``unknown-host`` if it has none)."""
    try:
        return socket.gethostname() or "unknown-host"
    except OSError:
        return "unknown-host"


@contextlib.contextmanager
def signal_handlers(
    loop: asyncio.AbstractEventLoop,
    log: logging.Logger,
    *,
    terminate: Callable[[], None],
    suspend: Callable[[], None] | None = None,
) -> Iterator[list[signal.Signals]]:
    """Handle ``SIGTERM``/``SIGINT`` with ``terminate`` (and ``SIGTSTP`` with ``suspend``, when
    given and the platform has it) on ``loop`` for the duration of the ``with`` block.

    Yields the signals actually handled: none on a loop without signal support (Windows) or
    outside the main thread, where a warning says how the service must be stopped instead.
    """
    wanted: list[tuple[signal.Signals, Callable[[], None]]] = [
        (signal.SIGTERM, terminate),
        (signal.SIGINT, terminate),
    ]
    if suspend is not None and hasattr(signal, "SIGTSTP"):  # no SIGTSTP on Windows
        wanted.append((signal.SIGTSTP, suspend))
    installed: list[signal.Signals] = []
    for sig, callback in wanted:
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # no signal support on this loop, or not the main thread
        installed.append(sig)
    missing = [sig.name for sig, _ in wanted if sig not in installed]
    if missing:
        log.warning(
            "Cannot handle %s here (no signal support on this event loop, or not the main "
            "thread); stop with shutdown() instead",
            ", ".join(missing),
        )
    try:
        yield installed
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


class Service:
    """The shared lifecycle; see the module docstring. Subclasses set ``_log`` and
    ``_service_name`` and implement :meth:`_shut_down`."""

    _log: logging.Logger
    #: How the log lines of ``run`` name the service ("scheduler", "worker server").
    _service_name: ClassVar[str]

    def __init__(self) -> None:
        self._state = NEW
        # Bound to a loop only when first awaited, so creating it here is safe without one.
        self._shutdown_requested = asyncio.Event()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._hurried = False

    @property
    def state(self) -> str:
        """``"new"``, ``"active"``, ``"stopped"`` (a server only) or ``"closed"``."""
        return self._state

    # -- the steps a service provides ----------------------------------------------------------

    async def _shut_down(self) -> None:
        """Release everything (runs once, in a task of its own)."""
        raise NotImplementedError

    def _hurry(self) -> None:
        """A second signal arrived during the shutdown: stop waiting for work in flight."""

    def _suspend_action(self) -> Callable[[], None] | None:
        """What ``SIGTSTP`` does; ``None`` (the default) leaves that signal alone."""
        return None

    # -- lifecycle -----------------------------------------------------------------------------

    def _activate(self) -> None:
        """Enter the ``active`` state (the service's ``start`` calls this once its checks pass)."""
        self._state = ACTIVE

    def _request_shutdown(self) -> None:
        """Begin shutting down now without waiting; safe from a signal handler on the loop."""
        if self._state == NEW:
            return
        self._shutdown_requested.set()
        if self._shutdown_task is None:
            self._state = CLOSED
            self._shutdown_task = asyncio.get_running_loop().create_task(
                self._shut_down(), name=f"asynq-{self._service_name.replace(' ', '-')}-shutdown"
            )

    def _fail(self, error: BaseException) -> None:
        """Shut down because of ``error``, which ``serve`` raises once the shutdown is done.

        The first failure wins; the caller has logged it.
        """
        if self._failure is None:
            self._failure = error
        self._request_shutdown()

    async def shutdown(self) -> None:
        """Stop and release everything; idempotent, and concurrent calls share one shutdown.

        Does nothing before the service was started.
        """
        self._request_shutdown()
        if self._shutdown_task is not None:
            await asyncio.shield(self._shutdown_task)

    async def _serve(self, start: Callable[[], Awaitable[None]]) -> None:
        await start()
        try:
            await self._shutdown_requested.wait()
        finally:
            await self.shutdown()
        if self._failure is not None:
            raise self._failure

    def _run(self, start: Callable[[], Awaitable[None]]) -> None:
        default_logging(self._log)
        asyncio.run(self._serve_with_signals(start))

    async def _serve_with_signals(self, start: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        with signal_handlers(
            loop, self._log, terminate=self._on_terminate_signal, suspend=self._suspend_action()
        ) as handled:
            if signal.SIGTERM in handled:
                self._log.info(
                    "Send signal TERM or INT to stop the %s; a second one stops it at once",
                    self._service_name,
                )
            if getattr(signal, "SIGTSTP", None) in handled:
                self._log.info("Send signal TSTP to stop processing new tasks")
            await self._serve(start)

    def _on_terminate_signal(self) -> None:
        if not self._shutdown_requested.is_set():
            self._log.info("Shutting down the %s gracefully", self._service_name)
            self._request_shutdown()
        elif not self._hurried:
            self._hurried = True
            self._log.warning("Second signal: stopping the %s at once", self._service_name)
            self._hurry()
