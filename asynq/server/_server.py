"""The worker server: lifecycle of the background components (Go's ``Server``)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable

from asynq._base.clock import SYSTEM_CLOCK, Clock
from asynq._base.lifecycle import ACTIVE, CLOSED, STOPPED, Service, hostname
from asynq._broker.drivers import AsyncDriver
from asynq._resolve import describe_address, resolve_async
from asynq.connection import AsyncRedisLike
from asynq.errors import AsynqError, BrokerError, ServerCrashedError, ValidationError
from asynq.servemux import Handler, TaskHandler
from asynq.server import _supervisor as supervisor
from asynq.server._burst import check_reachable, wait_drained
from asynq.server._config import Config
from asynq.server._heartbeat import ServerIdentity
from asynq.server._parts import ServerParts, build_parts
from asynq.server._subscriber import Subscriber
from asynq.server._supervisor import Supervisor
from asynq.server._workers import WorkerRegistry

__all__ = ["Server"]


class Server(Service):
    """Processes tasks from Redis with a handler; wire-compatible with Go asynq servers.

    Args:
        redis: A Redis URL, a :class:`~asynq.RedisConnection`, or a ``redis.asyncio`` client
            (then the caller keeps ownership). Defaults to ``$ASYNQ_REDIS_URL``.
        config: How to process tasks; see :class:`Config`.
        clock: Where "now" comes from (tests pass a ``FakeClock``).

    Run it with :meth:`run` (blocks, handles signals) or, inside a running event loop, with
    ``await`` :meth:`serve`, or :meth:`start` / :meth:`stop` / :meth:`shutdown`.

    Signals (:meth:`run` only): ``SIGTERM`` / ``SIGINT`` stop taking tasks, wait up to
    ``shutdown_timeout`` for running ones, requeue the rest and exit; a second one requeues
    the running tasks at once. ``SIGTSTP`` stops taking tasks and keeps running (status
    ``"stopped"``) until ``SIGTERM``.

    Crashes: a background component that raises is restarted after a backoff when that is
    safe (janitor, recoverer, forwarder, syncer, aggregator, health check, subscriber); a
    crash of the fetch loop or the heartbeat shuts the server down gracefully instead, and
    :meth:`serve` / :meth:`run` then raise :class:`~asynq.errors.ServerCrashedError`. Either
    way the crash is logged with its traceback (see :mod:`asynq.server._supervisor`).

    A plain ``def`` handler runs in a thread, and Python cannot kill a thread: if it hangs past
    its deadline the task is failed (or requeued at shutdown) on time and its concurrency
    slot is freed, but the thread runs on until the handler returns. Check
    ``task.cancelled`` in long loops.
    """

    _service_name = "worker server"

    def __init__(
        self,
        redis: AsyncRedisLike | None = None,
        config: Config | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        if config is not None and not isinstance(config, Config):
            raise ValidationError(f"config must be an asynq.server.Config, not {config!r}")
        self.config = config or Config()
        client, self._owned = resolve_async(redis)
        self._driver = AsyncDriver(client)
        self._clock = clock or SYSTEM_CLOCK
        self._log = self.config.log
        self.identity = ServerIdentity(hostname(), os.getpid(), str(uuid.uuid4()))
        self._registry = WorkerRegistry()
        self._supervisor = Supervisor(
            self._log, on_fatal=self._component_crashed, backoff=supervisor.RESTART_BACKOFF
        )
        #: The components, built by start() for its handler.
        self._parts: ServerParts | None = None
        #: Burst mode's watch for drained queues (see :mod:`asynq.server._burst`).
        self._burst: asyncio.Task[None] | None = None

    @property
    def server_id(self) -> str:
        """The UUID in this server's Redis keys."""
        return self.identity.server_id

    @property
    def subscriber(self) -> Subscriber | None:
        """The pub/sub listener (``subscriber.subscribed`` is set once it listens)."""
        return None if self._parts is None else self._parts.subscriber

    @property
    def in_flight(self) -> int:
        """The number of tasks being processed."""
        return len(self._registry)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, handler: Handler) -> None:
        """Start processing with ``handler`` and return (components run in the background).

        Raises:
            ValidationError: ``handler`` is not a handler.
            AsynqError: the server was started before.
        """
        self._check_startable(handler)
        self._parts = build_parts(
            self.config,
            self._driver,
            self._clock,
            self._log,
            identity=self.identity,
            status=lambda: self._state,
            registry=self._registry,
            handler=handler,
        )
        self._activate()
        self._log.info("Starting processing")
        for part in self._parts.supervised():
            self._supervisor.start(part.name, part.policy, part.run)

    def _check_startable(self, handler: Handler) -> None:
        if handler is None or not (callable(handler) or isinstance(handler, TaskHandler)):
            raise ValidationError("asynq: server cannot run with nil handler")
        if self._state == ACTIVE:
            raise AsynqError("asynq: the server is already running")
        if self._state == STOPPED:
            raise AsynqError("asynq: the server is in the stopped state. Waiting for shutdown.")
        if self._state == CLOSED:
            raise AsynqError("asynq: Server closed")

    async def _start_burst(self, handler: Handler) -> None:
        self._check_startable(handler)
        try:
            # Only reads of the queues can tell that they are drained: without Redis, fail
            # now rather than start components that would only log connection errors.
            await check_reachable(self._driver, describe_address(self._driver.redis))
        except BrokerError:
            self._state = CLOSED
            if self._owned:
                await self._driver.close()
            raise
        await self.start(handler)
        assert self._parts is not None
        self._burst = asyncio.create_task(self._stop_when_drained(self._parts), name="asynq-burst")

    async def _stop_when_drained(self, parts: ServerParts) -> None:
        where = describe_address(self._driver.redis)
        try:
            await wait_drained(parts.processor, lambda: self.in_flight, where)
        except BrokerError as exc:
            self._log.info("Burst mode: the queues cannot be read; shutting down")
            self._fail(exc)  # serve() raises it once the shutdown is done
            return
        self._log.info("Burst mode: the queues are drained")
        self._request_shutdown()

    def _component_crashed(self, name: str, error: BaseException) -> None:
        crash = ServerCrashedError(name, error)
        crash.__cause__ = error
        self._fail(crash)

    def stop(self) -> None:
        """Stop taking new tasks; running tasks finish and heartbeats continue ("stopped").

        Safe to call from a signal handler on the loop, and more than once.
        """
        if self._state != ACTIVE or self._parts is None:
            return
        self._state = STOPPED
        self._log.info("Stopping processor")
        self._parts.processor.stop()
        self._log.info("Processor stopped")

    def _suspend_action(self) -> Callable[[], None]:
        return self.stop

    def _hurry(self) -> None:
        if self._parts is not None:
            # A second signal: stop waiting for running tasks and requeue them now.
            self._log.warning("Requeueing the running tasks now")
            self._parts.processor.abort()

    async def shutdown(self) -> None:
        """Stop and release everything, in Go's order; waits at most about shutdown_timeout
        for running tasks, then requeues the rest. Idempotent; concurrent calls share one
        shutdown."""
        await super().shutdown()

    async def _shut_down(self) -> None:
        parts, components = self._parts, self._supervisor
        if parts is None:
            return
        self._log.info("Starting graceful shutdown")
        if self._burst is not None:
            self._burst.cancel()
        await components.stop("forwarder")
        await parts.processor.shutdown()
        await components.stop("processor")
        await components.stop("waiter")
        await components.stop("recoverer")
        await components.stop("syncer")
        await parts.syncer.flush()
        await components.stop("subscriber")
        await components.stop("janitor")
        await components.stop("aggregator")
        if parts.aggregator is not None:
            await parts.aggregator.wait_checks()
        await components.stop("healthcheck")
        await components.stop("heartbeat")
        await parts.heartbeat.clear()
        await components.stop_all()
        parts.processor.release_handlers()
        parts.executor.shutdown(wait=False)
        if self._owned:
            await self._driver.close()
        self._log.info("Exiting")

    async def serve(
        self, handler: Handler, *, burst: bool = False, handle_signals: bool = False
    ) -> None:
        """Start, run until :meth:`shutdown` is called (or this coroutine is cancelled), then
        shut down gracefully.

        With ``burst``, also shut down once the served queues are drained: no pending task
        left and none of this server's in flight. Scheduled tasks and retries not due yet are
        not waited for (the precise rule is in ``docs/operations.md#burst-mode``). Drained is
        decided only from successful reads of the queues: a server that cannot reach Redis
        at start raises at once, and one whose reads keep failing for 30 s shuts down
        gracefully, then raises.

        With ``handle_signals``, handle SIGTERM, SIGINT and SIGTSTP on the running loop
        while serving, as :meth:`run` does: for a program that runs the server as its main
        job inside an event loop of its own (an app's lifespan around it, say).

        Raises:
            ServerCrashedError: a component the server cannot run without crashed; the server
                shut down gracefully (running tasks requeued) before this was raised.
            BrokerUnreachableError: burst mode, and Redis could not be reached at start
                (nothing was started).
            BrokerError: burst mode, and the queues could not be read for 30 s
                (``BrokerConnectionError`` when Redis could not be reached); the server shut
                down gracefully first.
        """
        start = self._starter(handler, burst)
        await (self._serve_with_signals(start) if handle_signals else self._serve(start))

    def run(self, handler: Handler, *, burst: bool = False) -> None:
        """Process tasks until SIGTERM or SIGINT, then shut down gracefully (Go's ``Run``).

        With ``burst``, also shut down once the served queues are drained, as :meth:`serve`.

        Blocks; starts its own event loop with :func:`asyncio.run`. When logging is not
        configured at all, INFO and above go to stderr (as Go's default logger does).

        Raises:
            ServerCrashedError: as :meth:`serve`; uncaught, the process exits with status 1.
            BrokerError: burst mode without Redis, as :meth:`serve`.
        """
        self._run(self._starter(handler, burst))

    def _starter(self, handler: Handler, burst: bool) -> Callable[[], Awaitable[None]]:
        return (lambda: self._start_burst(handler)) if burst else (lambda: self.start(handler))
