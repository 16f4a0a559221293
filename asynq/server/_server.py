"""The worker server: lifecycle of the background components (Go's ``Server``)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable

from asynq._base.clock import SYSTEM_CLOCK, Clock
from asynq._broker.drivers import AsyncDriver
from asynq._resolve import is_cluster, resolve_async
from asynq._task import Duration
from asynq.client import AsyncClient
from asynq.connection import AsyncRedisLike
from asynq.errors import AsynqError, ValidationError
from asynq.servemux import Handler, TaskHandler
from asynq.server import _heartbeat as heartbeat
from asynq.server import _recoverer as recoverer
from asynq.server import _subscriber as subscriber
from asynq.server import _syncer as syncer
from asynq.server._aggregator import Aggregator
from asynq.server._config import Config, to_seconds
from asynq.server._forwarder import Forwarder
from asynq.server._handoff import Handoff
from asynq.server._healthcheck import HealthChecker
from asynq.server._heartbeat import Heartbeat, ServerIdentity
from asynq.server._janitor import Janitor
from asynq.server._processor import Processor
from asynq.server._queues import QueueSelector
from asynq.server._recoverer import Recoverer
from asynq.server._subscriber import Subscriber
from asynq.server._syncer import Syncer
from asynq.server._threads import ElasticThreadExecutor
from asynq.server._workers import WorkerRegistry

NEW, ACTIVE, STOPPED, CLOSED = "new", "active", "stopped", "closed"


def _seconds(value: Duration) -> float:
    return to_seconds("duration", value)


def _hostname() -> str:
    try:
        return socket.gethostname() or "unknown-host"
    except OSError:
        return "unknown-host"


class Server:
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

    A plain ``def`` handler runs in a thread, and Python cannot kill a thread: if it hangs past
    its deadline the task is failed (or requeued at shutdown) on time and its concurrency
    slot is freed, but the thread runs on until the handler returns. Check
    ``task.cancelled`` in long loops.
    """

    def __init__(
        self,
        redis: AsyncRedisLike | None = None,
        config: Config | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        if config is not None and not isinstance(config, Config):
            raise ValidationError(f"config must be an asynq.server.Config, not {config!r}")
        self.config = config or Config()
        client, self._owned = resolve_async(redis)
        self._driver = AsyncDriver(client)
        self._clock = clock or SYSTEM_CLOCK
        self._log = self.config.log
        self._state = NEW
        self.identity = ServerIdentity(_hostname(), os.getpid(), str(uuid.uuid4()))
        self._registry = WorkerRegistry()
        self._components: dict[str, asyncio.Task[None]] = {}
        self._processor: Processor | None = None
        self._heartbeat: Heartbeat | None = None
        self._syncer: Syncer | None = None
        self._subscriber: Subscriber | None = None
        self._aggregator: Aggregator | None = None
        self._executor: ElasticThreadExecutor | None = None
        self._shutdown_requested: asyncio.Event | None = None
        self._shutdown_task: asyncio.Task[None] | None = None

    @property
    def state(self) -> str:
        """``"new"``, ``"active"``, ``"stopped"`` or ``"closed"``."""
        return self._state

    @property
    def server_id(self) -> str:
        """The UUID in this server's Redis keys."""
        return self.identity.server_id

    @property
    def subscriber(self) -> Subscriber | None:
        """The pub/sub listener (``subscriber.subscribed`` is set once it listens)."""
        return self._subscriber

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
        if handler is None or not (callable(handler) or isinstance(handler, TaskHandler)):
            raise ValidationError("asynq: server cannot run with nil handler")
        if self._state == ACTIVE:
            raise AsynqError("asynq: the server is already running")
        if self._state == STOPPED:
            raise AsynqError("asynq: the server is in the stopped state. Waiting for shutdown.")
        if self._state == CLOSED:
            raise AsynqError("asynq: Server closed")
        self._state = ACTIVE
        self._shutdown_requested = asyncio.Event()
        self._build(handler)
        self._log.info("Starting processing")
        assert self._heartbeat is not None and self._subscriber is not None
        assert self._syncer is not None and self._processor is not None
        # Go's Server.Start order.
        self._spawn("heartbeat", self._heartbeat.run())
        if self._healthchecker is not None:
            self._spawn("healthcheck", self._healthchecker.run())
        self._spawn("subscriber", self._subscriber.run())
        self._spawn("syncer", self._syncer.run())
        self._spawn("recoverer", self._recoverer.run())
        self._spawn("forwarder", self._forwarder.run())
        self._spawn("processor", self._processor.run())
        self._spawn("janitor", self._janitor.run())
        if self._aggregator is not None:
            self._spawn("aggregator", self._aggregator.run())

    def _build(self, handler: Handler) -> None:
        cfg, driver, clock, log = self.config, self._driver, self._clock, self._log
        qnames = list(cfg.queues)
        check_interval = _seconds(cfg.task_check_interval)
        handoff = (
            Handoff(self.server_id, check_interval)
            if cfg.direct_handoff and not is_cluster(driver.redis)
            else None
        )
        self._executor = ElasticThreadExecutor()
        self._syncer = Syncer(driver, clock, log, interval=syncer.SYNC_INTERVAL)
        self._heartbeat = Heartbeat(
            driver,
            clock,
            log,
            identity=self.identity,
            concurrency=cfg.concurrency,
            queues=cfg.queues,
            strict_priority=cfg.strict_priority,
            status=lambda: self._state,
            registry=self._registry,
            interval=heartbeat.HEARTBEAT_INTERVAL,
        )
        self._processor = Processor(
            driver=driver,
            clock=clock,
            logger=log,
            handler=handler,
            queues=QueueSelector(cfg.queues, cfg.strict_priority),
            concurrency=cfg.concurrency,
            task_check_interval=check_interval,
            shutdown_timeout=_seconds(cfg.shutdown_timeout),
            retry_delay_func=cfg.retry_delay_func,
            is_failure=cfg.is_failure,
            error_handler=cfg.error_handler,
            registry=self._registry,
            syncer=self._syncer,
            executor=self._executor,
            handoff=handoff,
        )
        self._subscriber = Subscriber(
            driver.redis,
            log,
            registry=self._registry,
            queues=qnames,
            on_pending=self._processor.wake,
            handoff=handoff,
            on_handoff=None if handoff is None else self._processor.receive_handoff,
            retry_interval=subscriber.RETRY_INTERVAL,
        )
        self._recoverer = Recoverer(
            driver,
            clock,
            log,
            queues=qnames,
            retry_delay_func=cfg.retry_delay_func,
            is_failure=cfg.is_failure,
            interval=recoverer.RECOVER_INTERVAL,
        )
        self._forwarder = Forwarder(
            driver,
            clock,
            log,
            queues=qnames,
            interval=_seconds(cfg.delayed_task_check_interval),
        )
        self._janitor = Janitor(
            driver,
            clock,
            log,
            queues=qnames,
            interval=_seconds(cfg.janitor_interval),
            batch_size=cfg.janitor_batch_size,
        )
        self._healthchecker = (
            None
            if cfg.health_check_func is None
            else HealthChecker(
                driver,
                log,
                func=cfg.health_check_func,
                interval=_seconds(cfg.health_check_interval),
            )
        )
        if cfg.group_aggregator is not None:
            self._aggregator = Aggregator(
                driver,
                clock,
                log,
                queues=qnames,
                aggregator=cfg.group_aggregator,
                client=AsyncClient(driver.redis, clock=clock),
                executor=self._executor,
                grace_period=_seconds(cfg.group_grace_period),
                max_delay=_seconds(cfg.group_max_delay),
                max_size=cfg.group_max_size,
            )
        if cfg.janitor_batch_size > 100:
            log.warning(
                "Janitor batch size of %d is greater than the recommended batch size of 100. "
                "This might cause a long-running script",
                cfg.janitor_batch_size,
            )

    def _spawn(self, name: str, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("asynq server component %s crashed", name)

        self._components[name] = asyncio.create_task(guarded(), name=f"asynq-{name}")

    def stop(self) -> None:
        """Stop taking new tasks; running tasks finish and heartbeats continue ("stopped").

        Safe to call from a signal handler on the loop, and more than once.
        """
        if self._state != ACTIVE:
            return
        self._state = STOPPED
        self._log.info("Stopping processor")
        if self._processor is not None:
            self._processor.stop()
        self._log.info("Processor stopped")

    async def shutdown(self) -> None:
        """Stop and release everything, in Go's order; waits at most about shutdown_timeout
        for running tasks, then requeues the rest. Idempotent; concurrent calls share one
        shutdown."""
        if self._state == NEW:
            return
        if self._shutdown_requested is not None:
            self._shutdown_requested.set()
        if self._shutdown_task is None:
            if self._state == CLOSED:
                return
            self._state = CLOSED
            self._shutdown_task = asyncio.create_task(self._shutdown(), name="asynq-shutdown")
        await asyncio.shield(self._shutdown_task)

    async def _stop_component(self, name: str) -> None:
        task = self._components.pop(name, None)
        if task is None:
            return
        # redis-py may swallow a cancellation that arrives while it connects, so repeat it
        # until the component has really ended.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("asynq server component %s failed", name, exc_info=task.exception())

    async def _shutdown(self) -> None:
        self._log.info("Starting graceful shutdown")
        await self._stop_component("forwarder")
        if self._processor is not None:
            await self._processor.shutdown()
        await self._stop_component("processor")
        await self._stop_component("recoverer")
        await self._stop_component("syncer")
        if self._syncer is not None:
            await self._syncer.flush()
        await self._stop_component("subscriber")
        await self._stop_component("janitor")
        await self._stop_component("aggregator")
        if self._aggregator is not None:
            await self._aggregator.wait_checks()
        await self._stop_component("healthcheck")
        await self._stop_component("heartbeat")
        if self._heartbeat is not None:
            await self._heartbeat.clear()
        if self._processor is not None:
            self._processor.release_handlers()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        if self._owned:
            await self._driver.close()
        self._log.info("Exiting")

    async def serve(self, handler: Handler) -> None:
        """Start, run until :meth:`shutdown` is called (or this coroutine is cancelled), then
        shut down gracefully."""
        await self.start(handler)
        assert self._shutdown_requested is not None
        try:
            await self._shutdown_requested.wait()
        finally:
            await self.shutdown()

    def run(self, handler: Handler) -> None:
        """Process tasks until SIGTERM or SIGINT, then shut down gracefully (Go's ``Run``).

        Blocks; starts its own event loop with :func:`asyncio.run`. When logging is not
        configured at all, INFO and above go to stderr (as Go's default logger does).
        """
        if not logging.getLogger().handlers and not self._log.handlers:
            logging.basicConfig(
                level=logging.INFO,
                format="asynq: pid=%(process)d %(asctime)s %(levelname)s: %(message)s",
            )
        asyncio.run(self._run_with_signals(handler))

    async def _run_with_signals(self, handler: Handler) -> None:
        loop = asyncio.get_running_loop()
        installed = _install_signals(
            loop,
            terminate=self._on_terminate,
            suspend=self.stop,
        )
        self._log.info("Send signal TSTP to stop processing new tasks")
        self._log.info("Send signal TERM or INT to terminate the process")
        try:
            await self.serve(handler)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _on_terminate(self) -> None:
        requested = self._shutdown_requested
        if requested is not None and requested.is_set() and self._processor is not None:
            # A second signal: stop waiting for running tasks and requeue them now.
            self._log.warning("Second signal: requeueing the running tasks now")
            self._processor.abort()
            return
        self.stop()
        if requested is not None:
            requested.set()


def _install_signals(
    loop: asyncio.AbstractEventLoop,
    *,
    terminate: Callable[[], None],
    suspend: Callable[[], None],
) -> list[signal.Signals]:
    wanted: list[tuple[signal.Signals, Callable[[], None]]] = [
        (signal.SIGTERM, terminate),
        (signal.SIGINT, terminate),
    ]
    if hasattr(signal, "SIGTSTP"):  # not on Windows
        wanted.append((signal.SIGTSTP, suspend))
    installed = []
    for sig, callback in wanted:
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # no signal support here (Windows loop, or not the main thread)
        installed.append(sig)
    return installed
