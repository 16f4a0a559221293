"""How the sync fast lane waits for a small reply: polling the socket, or asleep in ``recv``.

On an idle multi-core machine a thread asleep in ``recv`` wakes tens of microseconds after its
reply lands (on the reference 2-core VM about 50 µs, longer than Redis takes to run an enqueue
script), so polling the socket until the reply is readable can halve the wall time of an
enqueue; Go's runtime likewise spins a little before it parks a goroutine on its network
poller. When the cores are busy, though, polling takes CPU from Redis and from everyone else,
and sleeping wins. :class:`Waiting` therefore times both (from the start of the wait to the
complete reply, smoothed), uses the faster, and every ``PROBE_EVERY``-th wait tries the other
to notice a change. A poll gives up after ``POLL_LIMIT_SECONDS``; each poll releases the GIL.
"""

from __future__ import annotations

import select
import socket
from time import perf_counter
from typing import Final

from asynq._broker.lane.resp import Replies

#: Bytes asked of the socket per read.
RECV_SIZE: Final = 65536
#: The longest a poll lasts before it gives up and sleeps in ``recv``.
POLL_LIMIT_SECONDS: Final = 0.0005
#: One wait in this many tries the way that is currently losing.
PROBE_EVERY: Final = 16
#: Whether this platform can poll a socket (not Windows): otherwise waits always sleep.
CAN_POLL: Final = hasattr(select, "poll")


def read_all(sock: socket.socket, replies: Replies) -> None:
    """Sleep in ``recv`` until ``replies`` are complete (the socket's timeout applies)."""
    while not replies.feed(sock.recv(RECV_SIZE)):
        pass


class Waiting:
    """Picks polling or sleeping per wait (see the module docstring); one per client, shared by
    its threads, whose updates race harmlessly."""

    __slots__ = ("count", "poll_seconds", "sleep_seconds")

    def __init__(self) -> None:
        self.count = 0
        self.poll_seconds = 0.0  # smoothed wait when polling (0: not measured yet)
        self.sleep_seconds = 0.0

    def wait(self, sock: socket.socket, replies: Replies) -> None:
        """Read from ``sock`` into ``replies`` until they are complete."""
        self.count += 1
        poll = self.poll_seconds <= self.sleep_seconds
        if self.count % PROBE_EVERY == 0:
            poll = not poll
        start = perf_counter()
        if poll:
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            deadline = start + POLL_LIMIT_SECONDS
            while not poller.poll(0) and perf_counter() < deadline:
                pass
        read_all(sock, replies)
        elapsed = perf_counter() - start
        if poll:
            self.poll_seconds = _smooth(self.poll_seconds, elapsed)
        else:
            self.sleep_seconds = _smooth(self.sleep_seconds, elapsed)


def _smooth(average: float, sample: float) -> float:
    """An exponential moving average (1/8) that one descheduled outlier cannot swamp."""
    if not average:
        return sample
    return average + (min(sample, 4 * average) - average) / 8
