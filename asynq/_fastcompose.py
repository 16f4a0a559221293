"""The producer's hot-path helpers: cheap task ids, a memo of ``compose`` and fresh TaskInfos.

Each helper gives exactly what the plain code gives (``str(uuid.uuid4())``,
:func:`asynq._options.compose`, :meth:`asynq.TaskInfo.from_message`), only with less work per
task; ``tests/client/test_fastpath.py`` checks the equivalences.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MemberDescriptorType
from typing import Any, Final

from asynq._base.codec import TaskMessage, unix_to_datetime
from asynq._options import Composed, Placement
from asynq._task import Task, TaskInfo, TaskState

#: Call options that make ``compose`` depend on the clock or on the task beyond its type and
#: payload (unique keys hash the payload); a call naming any of them is composed in full. The
#: deadline is here too: it is a point in time, so a check against "now" could come with it.
PER_CALL_OPTIONS: Final = frozenset({"task_id", "unique", "process_at", "process_in", "deadline"})
#: Distinct call-option sets remembered; the memo starts over when full.
TEMPLATES_KEPT: Final = 64


def new_task_ids(count: int) -> Iterator[str]:
    """``count`` random UUIDv4 strings, like ``str(uuid.uuid4())`` but several times cheaper.

    One ``os.urandom`` call serves the whole batch (uuid4 makes one per id and then builds a
    UUID object); the version nibble becomes ``4`` and the variant bits ``10``, as RFC 4122
    asks.
    """
    hexes = os.urandom(16 * count).hex()
    for i in range(0, 32 * count, 32):
        h = hexes[i : i + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        yield f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


#: Ids :func:`new_task_id` made ahead, :data:`IDS_AHEAD` at a time. Besides its own cost,
#: ``os.urandom`` releases the GIL, and with threads sharing a client a thread that lets go of
#: the GIL mostly waits to get it back: one call per enqueue meant one more thread switch per
#: enqueue. A forked child starts with none, so it never repeats its parent's next ids.
_ids_ahead: deque[str] = deque()
IDS_AHEAD: Final = 64


def new_task_id() -> str:
    """One id of :func:`new_task_ids` (thread-safe: ``deque`` pops are atomic)."""
    while True:
        try:
            return _ids_ahead.popleft()
        except IndexError:
            _ids_ahead.extend(new_task_ids(IDS_AHEAD))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids_ahead.clear)


class ComposeMemo:
    """Remembers ``compose`` results to copy for *plain* tasks.

    For a task that is exactly a :class:`~asynq.Task` with no options and no headers of its own,
    and call options naming none of :data:`PER_CALL_OPTIONS`, ``compose`` validates only the
    options and builds the same message whatever the task, except for its type, payload and id;
    it is placed pending (or in its group) at "now". So one real ``compose`` per distinct set of
    call options serves as a template, and later tasks get a protobuf copy with those three
    fields replaced: about 1.5 µs instead of 8. Anything else returns ``None`` and is composed
    in full (errors included).
    """

    def __init__(self) -> None:
        self._templates: dict[Hashable, Composed] = {}

    @staticmethod
    def plain(task: Task) -> bool:
        """Whether ``task`` is a plain task (see the class docstring)."""
        return type(task) is Task and not task.options and not task.headers

    @staticmethod
    def key(opts: Mapping[str, Any]) -> Hashable | None:
        """The memo key of a call's options, or ``None`` when they must be composed in full."""
        if not opts:
            return ()
        if not opts.keys().isdisjoint(PER_CALL_OPTIONS):
            return None
        # The value's type is part of the key: True == 1, but max_retry=True is refused.
        if len(opts) == 1:  # the usual call (queue=...): no sort, no generator (0.5 µs less)
            ((name, value),) = opts.items()
            key: tuple[Any, ...] = ((name, type(value), value),)
        else:
            key = tuple((name, type(value), value) for name, value in sorted(opts.items()))
        try:
            hash(key)
        except TypeError:  # e.g. headers given as a dict: not worth remembering
            return None
        return key

    def template(self, key: Hashable) -> Composed | None:
        """The composition remembered for ``key``, if any."""
        return self._templates.get(key)

    @staticmethod
    def copy_of(template: Composed, task: Task, task_id: str, now: float) -> Composed:
        """``template`` with the plain ``task``'s type and payload, id ``task_id``, at ``now``."""
        msg = TaskMessage()
        msg.CopyFrom(template.msg)
        msg.type = task.type
        msg.payload = task.payload
        msg.id = task_id
        return Composed(msg, template.placement, now, None)

    def copy(self, key: Hashable, task: Task, task_id: str, now: float) -> Composed | None:
        """The remembered composition for ``key`` with the plain ``task``'s fields, if any."""
        template = self._templates.get(key)
        return None if template is None else self.copy_of(template, task, task_id, now)

    def remember(self, key: Hashable, composed: Composed) -> None:
        """Keep ``composed`` (a full compose of the call ``key`` stands for) as a template."""
        if len(self._templates) >= TEMPLATES_KEPT:
            self._templates.clear()
        self._templates[key] = composed


@lru_cache(maxsize=256)
def _duration(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


#: TaskInfo's fields, in order, as :func:`_slot_setters` expects them.
_TASKINFO_FIELDS: Final = (
    "id", "queue", "type", "payload", "headers", "state", "max_retry", "retried", "last_err",
    "last_failed_at", "timeout", "deadline", "group", "next_process_at", "is_orphaned",
    "retention", "completed_at", "result", "unreadable",
)  # fmt: skip


def _slot_setters() -> tuple[Callable[[TaskInfo, Any], None], ...] | None:
    """The slot setters of TaskInfo's fields, if it is still the dataclass this module knows.

    A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``, which
    costs ~2.4 µs a TaskInfo; storing through the slots directly costs ~1.3 µs, and
    ``enqueue_many`` makes one per task. Any change to TaskInfo (fields, order, slots,
    ``__post_init__``) turns this off and :func:`fresh_info` uses the constructor again.
    """
    names = tuple(f.name for f in dataclasses.fields(TaskInfo))
    if names != _TASKINFO_FIELDS or hasattr(TaskInfo, "__post_init__"):
        return None
    slots = [vars(TaskInfo).get(name) for name in names]
    if not all(isinstance(slot, MemberDescriptorType) for slot in slots):
        return None
    return tuple(slot.__set__ for slot in slots)  # type: ignore[union-attr]


_SETTERS: Final = _slot_setters()
_CURRENT_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(TaskInfo))


def fresh_info(c: Composed) -> TaskInfo:
    """The TaskInfo of a task just written: what ``TaskInfo.from_message`` gives, faster.

    A fresh message has never run (no retries, error, completion or result), so only the fields
    compose sets are read.
    """
    return _make_info(_info_values(c))


def copy_info(base: tuple[Any, ...], task: Task, task_id: str) -> TaskInfo:
    """``fresh_info(ComposeMemo.copy_of(template, task, task_id, now))`` without the copy:
    ``base`` is :func:`info_base` of the template at that ``now``, shared by a whole batch."""
    headers = base[4]
    head = (task_id, base[1], task.type, task.payload, dict(headers) if headers else {})
    return _make_info(head + base[5:])


def info_base(template: Composed, now: float) -> tuple[Any, ...]:
    """What the TaskInfos of ``template``'s copies made at ``now`` share (see copy_info)."""
    return _info_values(Composed(template.msg, template.placement, now, None))


def _info_values(c: Composed) -> tuple[Any, ...]:
    """TaskInfo's field values for a fresh ``c``, in ``_TASKINFO_FIELDS`` order."""
    msg = c.msg
    if c.placement is Placement.SCHEDULED:
        state, nxt = TaskState.SCHEDULED, datetime.fromtimestamp(c.process_at, UTC)
    elif c.placement is Placement.GROUP:
        state, nxt = TaskState.AGGREGATING, None
    else:
        state, nxt = TaskState.PENDING, datetime.fromtimestamp(c.process_at, UTC)
    headers = dict(msg.headers) if msg.headers else {}
    return (
        msg.id, msg.queue, msg.type, msg.payload, headers, state, msg.retry, 0, "", None,
        _duration(msg.timeout), unix_to_datetime(msg.deadline), msg.group_key, nxt, False,
        _duration(msg.retention), None, None, (),
    )  # fmt: skip


def _make_info(values: tuple[Any, ...]) -> TaskInfo:
    if _SETTERS is None:  # TaskInfo changed: its constructor, with the fields it still has
        named = zip(_TASKINFO_FIELDS, values, strict=True)
        return TaskInfo(**{name: value for name, value in named if name in _CURRENT_FIELDS})
    info = object.__new__(TaskInfo)
    for store, value in zip(_SETTERS, values, strict=True):
        store(info, value)
    return info
