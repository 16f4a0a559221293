"""The tasks in flight on this server, shared by the processor, heartbeat and subscriber.

Everything runs on one event loop, so a dict replaces Go's channels and mutexes.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from asynq._base.codec import TaskMessage
from asynq.server._active_task import TaskContext
from asynq.server._lease import Lease


class Interrupt(enum.Enum):
    """What ended a processing attempt first (the cases of Go's ``select`` in processor.exec)."""

    FINISHED = "finished"  # the handler returned or raised
    DEADLINE = "deadline"  # the timeout or deadline passed
    CANCELED = "canceled"  # PUBLISH asynq:cancel <id>
    LEASE_EXPIRED = "lease_expired"  # the heartbeat could not extend the lease in time
    ABORT = "abort"  # shutdown timeout: requeue


@dataclass(eq=False)
class Worker:
    """One task being processed here."""

    msg: TaskMessage
    #: When processing started, Unix nanoseconds (WorkerInfo.start_time).
    started_ns: int
    lease: Lease
    context: TaskContext
    interrupted: asyncio.Future[Interrupt] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def id(self) -> str:
        return self.msg.id

    def interrupt(self, why: Interrupt) -> None:
        """Record the first event that ends the attempt; later ones are ignored."""
        if not self.interrupted.done():
            self.interrupted.set_result(why)


class WorkerRegistry:
    """Task id → :class:`Worker` for every task in flight."""

    def __init__(self) -> None:
        self._workers: dict[str, Worker] = {}

    def add(self, worker: Worker) -> None:
        self._workers[worker.id] = worker

    def remove(self, worker: Worker) -> None:
        if self._workers.get(worker.id) is worker:
            del self._workers[worker.id]

    def cancel(self, task_id: str) -> bool:
        """Cancel the task if it runs here (Go's cancelations map); return whether it did."""
        worker = self._workers.get(task_id)
        if worker is None:
            return False
        worker.interrupt(Interrupt.CANCELED)
        return True

    def __iter__(self) -> Iterator[Worker]:
        return iter(list(self._workers.values()))

    def __len__(self) -> int:
        return len(self._workers)
