"""The handler of the several-processes benchmark (:mod:`benchmarks.fleet`): about 1 ms of
pure-Python work per task, the kind of handler one event loop cannot spread over cores.

Run by ``python -m asynq worker benchmarks.fleet_app:cpu_bound --processes N``.
"""

from __future__ import annotations

from asynq.server import ActiveTask

#: Loop turns of one task: about 1 ms of one core on the reference 2-core VM.
WORK = 14_000


def burn(turns: int = WORK) -> int:
    """Pure-Python arithmetic holding the GIL for the whole time (no I/O, no C call)."""
    acc = 0
    for i in range(turns):
        acc = (acc + i * i) % 1_000_003
    return acc


async def cpu_bound(task: ActiveTask) -> None:
    """``async def`` on purpose: it blocks its process's event loop while it works, so a
    process runs one task at a time, and the processes are what run in parallel."""
    burn()
