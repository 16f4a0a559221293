"""Burst mode: a server that processes what its queues hold, then shuts down by itself.

"Drained" means, precisely: the fetch loop went idle (one dequeue round found every served
queue without a pending task) twice in a row, with no task of this server in flight at
either moment and none started in between. The second round matters: a task finishing just
before the first one may have enqueued follow-up tasks, and only a dequeue that starts after
every handler returned is sure to see them.

What is not waited for: scheduled tasks and retries whose time has not come (the forwarder
still moves those that fall due while the server runs, and they are then pending like any
other), tasks other servers are running, and queues this server does not serve.
"""

from __future__ import annotations

from collections.abc import Callable

from asynq.server._processor import Processor


async def wait_drained(processor: Processor, in_flight: Callable[[], int]) -> None:
    """Return once the queues ``processor`` serves are drained (see the module docstring)."""
    started_when_idle: int | None = None  # tasks started so far, at the last idle round
    after: int | None = None
    while True:
        after = await processor.wait_idle(after)
        started = processor.started
        if in_flight():
            started_when_idle = None
        elif started_when_idle == started:
            return
        else:
            started_when_idle = started
