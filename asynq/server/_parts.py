"""The components of one running server, built together from its :class:`Config`, and the
crash policy of each (see :mod:`asynq.server._supervisor`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asynq._base.clock import Clock
from asynq._broker.drivers import AsyncDriver
from asynq._resolve import is_cluster
from asynq.client import AsyncClient
from asynq.servemux import Handler
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
from asynq.server._supervisor import CrashPolicy
from asynq.server._syncer import Syncer
from asynq.server._threads import ElasticThreadExecutor
from asynq.server._waiter import PendingWaiter
from asynq.server._workers import WorkerRegistry

RESTART, STOP = CrashPolicy.RESTART, CrashPolicy.STOP


@dataclass(frozen=True, slots=True)
class Supervised:
    """One component as the supervisor runs it."""

    name: str
    policy: CrashPolicy
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServerParts:
    """Everything a started server runs; :func:`build_parts` makes it."""

    executor: ElasticThreadExecutor
    syncer: Syncer
    heartbeat: Heartbeat
    processor: Processor
    subscriber: Subscriber
    waiter: PendingWaiter
    recoverer: Recoverer
    forwarder: Forwarder
    janitor: Janitor
    healthchecker: HealthChecker | None
    aggregator: Aggregator | None

    def supervised(self) -> list[Supervised]:
        """The components in Go's ``Server.Start`` order, each with its crash policy."""
        parts = [
            # STOP: the heartbeat is what keeps the leases of the running tasks and tells
            # other servers this one is alive. Without it the leases lapse and other servers'
            # recoverers run the tasks again while this server still runs them; a restart
            # after a backoff could come too late, so the server shuts down and requeues them.
            Supervised("heartbeat", STOP, self.heartbeat.run),
        ]
        if self.healthchecker is not None:
            # RESTART: it only pings and reports; nothing is lost while it is down.
            parts.append(Supervised("healthcheck", RESTART, self.healthchecker.run))
        parts += [
            # RESTART: it already reconnects after a lost connection; while it is down the
            # fetch loop still finds tasks by polling, and cancellations wait for it.
            Supervised("subscriber", RESTART, self.subscriber.run),
            # RESTART: its queued writes live on the Syncer object and survive a restart.
            Supervised("syncer", RESTART, self.syncer.run),
            # RESTART: recoverer, forwarder, janitor and aggregator do periodic, idempotent
            # passes over Redis and keep no state between them.
            Supervised("recoverer", RESTART, self.recoverer.run),
            Supervised("forwarder", RESTART, self.forwarder.run),
            # STOP: a dead fetch loop leaves a server that heartbeats as active and takes no
            # task. Its crash means the processor's own bookkeeping (slots, handoff) is in an
            # unknown state, so the server shuts down, requeues what runs, and lets the
            # process supervisor (systemd, Kubernetes...) start a fresh one.
            Supervised("processor", STOP, self.processor.run),
            # RESTART: it only shortens the wait for a task; polling finds them meanwhile.
            Supervised("waiter", RESTART, self.waiter.run),
            Supervised("janitor", RESTART, self.janitor.run),
        ]
        if self.aggregator is not None:
            parts.append(Supervised("aggregator", RESTART, self.aggregator.run))
        return parts


def build_parts(
    config: Config,
    driver: AsyncDriver,
    clock: Clock,
    log: logging.Logger,
    *,
    identity: ServerIdentity,
    status: Callable[[], str],
    registry: WorkerRegistry,
    handler: Handler,
) -> ServerParts:
    """Build every component of a server that runs ``handler``."""
    cfg = config
    qnames = list(cfg.queues)
    check_interval = to_seconds("task_check_interval", cfg.task_check_interval)
    handoff = (
        Handoff(identity.server_id, check_interval)
        if cfg.direct_handoff and not is_cluster(driver.redis)
        else None
    )
    executor = ElasticThreadExecutor()
    sync = Syncer(driver, clock, log, interval=syncer.SYNC_INTERVAL)
    processor = Processor(
        driver=driver,
        clock=clock,
        logger=log,
        handler=handler,
        queues=QueueSelector(cfg.queues, cfg.strict_priority),
        concurrency=cfg.concurrency,
        task_check_interval=check_interval,
        shutdown_timeout=to_seconds("shutdown_timeout", cfg.shutdown_timeout),
        retry_delay_func=cfg.retry_delay_func,
        is_failure=cfg.is_failure,
        error_handler=cfg.error_handler,
        registry=registry,
        syncer=sync,
        executor=executor,
        handoff=handoff,
        task_wrapper=cfg.task_wrapper,
        thread_wrapper=cfg.thread_wrapper,
    )
    if cfg.janitor_batch_size > 100:
        log.warning(
            "Janitor batch size of %d is greater than the recommended batch size of 100. "
            "This might cause a long-running script",
            cfg.janitor_batch_size,
        )
    return ServerParts(
        executor=executor,
        syncer=sync,
        heartbeat=Heartbeat(
            driver,
            clock,
            log,
            identity=identity,
            concurrency=cfg.concurrency,
            queues=cfg.queues,
            strict_priority=cfg.strict_priority,
            status=status,
            registry=registry,
            interval=heartbeat.HEARTBEAT_INTERVAL,
        ),
        processor=processor,
        subscriber=Subscriber(
            driver.redis,
            log,
            registry=registry,
            queues=qnames,
            on_pending=processor.wake,
            handoff=handoff,
            on_handoff=None if handoff is None else processor.receive_handoff,
            retry_interval=subscriber.RETRY_INTERVAL,
        ),
        waiter=PendingWaiter(
            driver.redis, log, queues=qnames, fetcher=processor, rest=check_interval
        ),
        recoverer=Recoverer(
            driver,
            clock,
            log,
            queues=qnames,
            retry_delay_func=cfg.retry_delay_func,
            is_failure=cfg.is_failure,
            interval=recoverer.RECOVER_INTERVAL,
        ),
        forwarder=Forwarder(
            driver,
            clock,
            log,
            queues=qnames,
            interval=to_seconds("delayed_task_check_interval", cfg.delayed_task_check_interval),
        ),
        janitor=Janitor(
            driver,
            clock,
            log,
            queues=qnames,
            interval=to_seconds("janitor_interval", cfg.janitor_interval),
            batch_size=cfg.janitor_batch_size,
        ),
        healthchecker=None
        if cfg.health_check_func is None
        else HealthChecker(
            driver,
            log,
            func=cfg.health_check_func,
            interval=to_seconds("health_check_interval", cfg.health_check_interval),
        ),
        aggregator=None
        if cfg.group_aggregator is None
        else Aggregator(
            driver,
            clock,
            log,
            queues=qnames,
            aggregator=cfg.group_aggregator,
            client=AsyncClient(driver.redis, clock=clock),
            executor=executor,
            grace_period=to_seconds("group_grace_period", cfg.group_grace_period),
            max_delay=to_seconds("group_max_delay", cfg.group_max_delay),
            max_size=cfg.group_max_size,
        ),
    )
