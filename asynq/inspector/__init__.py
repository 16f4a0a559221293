"""Inspect and manage queues and tasks: :class:`Inspector` (blocking), :class:`AsyncInspector`.

Both are thin shells over :class:`_InspectorCore`, which validates arguments and builds the
broker op of each call; the only difference between the twins is ``await``, and
:class:`Inspector` is generated from :class:`AsyncInspector` (``scripts/gen_twins.py``). Every
answer equals what Go asynq v0.26.0's ``Inspector`` reports for the same Redis data, quirks
included (see the docstrings), so Go and Python processes can share queues and tools.

Deliberate differences from Go: arguments are validated (a blank queue, task id or group,
``page < 1``, ``page_size < 1`` or ``days < 1`` raise :class:`~asynq.ValidationError`); queue
names, servers and their workers come back sorted instead of in Redis' or Go's map order;
``cluster_key_slot`` is computed locally; and the memory estimate counts a sampled task that has
no hash as 0 bytes where Go v0.26.0 fails the whole ``GetQueueInfo`` call.

Damaged data degrades one value, never a whole answer (docs/reliability.md): a value that
cannot be read (a time past year 9999, a key of the wrong type, a counter that is not a number)
is named in the ``unreadable`` field of its ``TaskInfo``, ``QueueInfo`` or ``DailyStats``; a
task whose message cannot be decoded is listed as :meth:`TaskInfo.unreadable_task` (Go skips
it) and can still be deleted; a queue whose collections have the wrong type can be removed
with ``force``; a queue or group name that is not UTF-8, or is blank, is skipped with a
warning.

Paging: list methods take a 1-based ``page`` and a ``page_size`` (default 30). Pending and
active tasks are listed oldest first (page 1 holds the tasks that will run next); the ZSET
states are listed by ascending score (next process time for scheduled and retry tasks, archive
time for archived ones, expiry for completed ones, time added for aggregating ones).
"""

from asynq.inspector._aio import AsyncInspector
from asynq.inspector._blocking import Inspector
from asynq.inspector._core import DEFAULT_PAGE_SIZE

__all__ = ["DEFAULT_PAGE_SIZE", "AsyncInspector", "Inspector"]
