"""Burst mode: a server that processes what its queues hold, then shuts down by itself.

"Drained" means, precisely: the fetch loop went idle (one dequeue round found every served
queue without a pending task) twice in a row, with no task of this server in flight at
either moment and none started in between. The second round matters: a task finishing just
before the first one may have enqueued follow-up tasks, and only a dequeue that starts after
every handler returned is sure to see them.

Only rounds that read every served queue count: a round in which a queue could not be read
(Redis down, the queue's keys unusable) says nothing about that queue, so it is never taken
for an empty one. Burst mode therefore needs Redis, at two moments:

- at start, one ``PING`` (:func:`check_reachable`): a server that cannot reach Redis fails at
  once rather than starting components that would only log connection errors;
- while it runs, a fetch loop whose idle rounds keep failing is waited for, as a normal worker
  waits for Redis to come back, but only for :data:`GIVE_UP_AFTER` seconds in which no round
  succeeds and no task starts; then :func:`wait_drained` raises and the server shuts down
  gracefully with that error, never "drained".

What is not waited for: scheduled tasks and retries whose time has not come (the forwarder
still moves those that fall due while the server runs, and they are then pending like any
other), tasks other servers are running, and queues this server does not serve.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from asynq._broker.drivers import AsyncDriver
from asynq._broker.ops import server_ops
from asynq.errors import BrokerConnectionError, BrokerError, BrokerUnreachableError
from asynq.server._processor import Processor, ReadFailure

#: Seconds of failed reads (no successful idle round, no task started) after which burst mode
#: gives up: long enough to ride out a Redis restart or a Sentinel failover, short enough for
#: a CI job to fail in good time.
GIVE_UP_AFTER = 30.0


async def check_reachable(driver: AsyncDriver, where: str) -> None:
    """``PING`` Redis once (the connection's own retries included).

    Raises:
        BrokerUnreachableError: no connection could be opened, or it failed; ``where`` (the
            address) is in the message.
        BrokerError: Redis answered the ``PING`` with an error.
    """
    try:
        await driver.run(server_ops.ping())
    except BrokerConnectionError as exc:
        raise BrokerUnreachableError(f"burst mode cannot reach Redis at {where}: {exc}") from exc


async def wait_drained(processor: Processor, in_flight: Callable[[], int], where: str) -> None:
    """Return once the queues ``processor`` serves are drained (see the module docstring).

    Raises:
        BrokerError: the queues could not be read for :data:`GIVE_UP_AFTER` seconds
            (:class:`~asynq.errors.BrokerConnectionError` when Redis could not be reached);
            ``where`` (the address) is in the message.
    """
    loop = asyncio.get_running_loop()
    started_when_idle: int | None = None  # tasks started so far, at the last idle round
    failing_since: float | None = None  # when the current run of failed idle rounds began
    started_when_failing = 0
    after: int | None = None
    while True:
        await processor.wait_idle(after)
        # Read together: the round, its failure and the count describe the same moment.
        after, failure, started = processor.idle_round, processor.idle_failure, processor.started
        if failure is not None:
            started_when_idle = None
            now = loop.time()
            if failing_since is None or started != started_when_failing:
                failing_since, started_when_failing = now, started  # a task started: reads work
            elif now - failing_since >= GIVE_UP_AFTER:
                raise _gave_up(failure, where, now - failing_since)
            continue
        failing_since = None
        if in_flight():
            started_when_idle = None
        elif started_when_idle == started:
            return
        else:
            started_when_idle = started


def _gave_up(failure: ReadFailure, where: str, seconds: float) -> BrokerError:
    kind = (
        BrokerConnectionError if isinstance(failure.error, BrokerConnectionError) else BrokerError
    )
    error = kind(
        f"burst mode gave up: the queues could not be read from Redis at {where} for "
        f"{seconds:.0f} s, so they may not be drained (queue {failure.queue!r}: {failure.error})"
    )
    error.__cause__ = failure.error
    return error
