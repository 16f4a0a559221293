"""Direct handoff: an idle worker is given tasks by the enqueue that creates them.

An idle worker still needs a round trip after a wake-up message to dequeue the task it was
told about. With direct handoff, the enqueue script does that dequeue on the worker's behalf
(the same Redis effects as Go's dequeue) and publishes the task message on the worker's own
channel, so the handler starts as soon as the message arrives.

A worker registers in ``asynq:{<queue>}:handoff`` whenever its dequeue of that queue leaves
it with a free slot, and withdraws when its slots fill up or it stops fetching. Each
registration stands for one task and lapses after :data:`TTL_MARGIN` more than the task
check interval, the longest an idle worker goes without renewing it. The enqueue only hands
a task over when ``PUBLISH`` reports that the worker's channel has a listener, so a worker
that crashed never receives one. Only this library's enqueue hands off; Go producers' tasks
are dequeued as usual. Redis Cluster does not report listeners across nodes, so there the
worker never registers and relies on wake-up messages.

Like any dequeued task, a handed-off one is leased: if the worker's connection breaks after
Redis sent the message but before the worker read it, nobody extends the lease, and the
recoverer retries the task once it expires (as after a worker crash). It is never lost.
"""

from __future__ import annotations

from asynq._base import keys
from asynq._broker.ops.server_ops import HandoffRegistration

#: How much longer than the task check interval a registration lives.
TTL_MARGIN = 1.0


class Handoff:
    """One server's side of direct handoff: its channel, and whether it listens right now."""

    def __init__(self, server_id: str, task_check_interval: float) -> None:
        self.channel = keys.handoff_channel(server_id)
        self._registration = HandoffRegistration(self.channel, task_check_interval + TTL_MARGIN)
        #: Set by the subscriber while it is subscribed to :attr:`channel`.
        self.listening = False

    def registration(self) -> HandoffRegistration | None:
        """What a dequeue should register now; ``None`` while nobody listens on the channel."""
        return self._registration if self.listening else None
