"""The local view of a task lease (Go's ``base.Lease``).

Redis holds the lease as the task's score in ``asynq:{q}:lease``; the worker keeps the same
expiry here so it never writes a task's outcome after the lease may have passed to another
worker (the recoverer of any server retries tasks whose lease expired).
"""

from __future__ import annotations

from asynq._base.clock import Clock


class Lease:
    """An expiry time that the heartbeat extends while it is still valid."""

    def __init__(self, expires_at: float, clock: Clock) -> None:
        self._expires_at = expires_at
        self._clock = clock

    @property
    def deadline(self) -> float:
        """The expiry, Unix seconds."""
        return self._expires_at

    def is_valid(self) -> bool:
        """Whether the lease has not expired yet (valid up to and including the expiry)."""
        return self._expires_at >= self._clock.now()

    def reset(self, expires_at: float) -> bool:
        """Extend to ``expires_at`` if still valid; an expired lease cannot be revived."""
        if not self.is_valid():
            return False
        self._expires_at = expires_at
        return True
