"""The task model: :class:`Task` (what a producer sends), :class:`TaskInfo` (what Redis holds)
and :class:`TaskState`. Pure values, no I/O."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict

from asynq._base.codec import TaskMessage, unix_to_datetime
from asynq.errors import ValidationError

if TYPE_CHECKING:
    from typing import Unpack

#: A duration: seconds as a number, or a ``timedelta``.
Duration = float | int | timedelta
#: A point in time: Unix seconds as a number, or an *aware* ``datetime``.
Instant = float | int | datetime


class TaskOptions(TypedDict, total=False):
    """Options accepted by :class:`Task` and every enqueue method (Go's ``Option`` values).

    Options given at enqueue override those attached to the task, as in Go.
    """

    #: Retries before the task is archived (Go ``MaxRetry``; default 25; negative means 0).
    max_retry: int
    #: Queue name (Go ``Queue``; default ``"default"``).
    queue: str
    #: Longest a single run may take (Go ``Timeout``; default 30 min when no deadline is set).
    timeout: Duration | None
    #: Time by which the task must finish, whatever the retries (Go ``Deadline``).
    deadline: Instant | None
    #: Refuse duplicates of (queue, type, payload) for this long (Go ``Unique``; >= 1 s).
    unique: Duration | None
    #: Process no earlier than this time (Go ``ProcessAt``).
    process_at: Instant | None
    #: Process after this delay (Go ``ProcessIn``).
    process_in: Duration | None
    #: Explicit task id (Go ``TaskID``; default a random UUIDv4).
    task_id: str
    #: Keep the task as completed this long after success (Go ``Retention``).
    retention: Duration | None
    #: Aggregate with other tasks of this group (Go ``Group``).
    group: str


class EnqueueOptions(TaskOptions, total=False):
    """:class:`TaskOptions` plus ``headers``, merged over the task's own (field 15)."""

    headers: Mapping[str, str]


def _moment(name: str, seconds: float, bad: list[str]) -> datetime | None:
    """Go's "0 means none" Unix seconds as a datetime; ``None`` (and ``name`` in ``bad``)
    when the value is out of ``datetime``'s range or not finite."""
    try:
        return unix_to_datetime(int(seconds)) if seconds else None
    except (OverflowError, ValueError, OSError):
        bad.append(name)
        return None


def _span(name: str, seconds: int, bad: list[str]) -> timedelta:
    """Seconds as a timedelta; zero (and ``name`` in ``bad``) when it does not fit."""
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        bad.append(name)
        return timedelta(0)


class TaskState(enum.StrEnum):
    """The state of a task, as stored in the ``state`` field of its hash."""

    ACTIVE = "active"
    PENDING = "pending"
    SCHEDULED = "scheduled"
    RETRY = "retry"
    ARCHIVED = "archived"
    COMPLETED = "completed"
    AGGREGATING = "aggregating"

    @property
    def number(self) -> int:
        """Go's ``TaskState`` integer (active 1 ... aggregating 7)."""
        return _STATE_NUMBERS[self]


_STATE_NUMBERS = {state: i for i, state in enumerate(TaskState, start=1)}


def _check_payload(payload: object) -> bytes | None:
    if payload is None or isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    raise ValidationError(
        f"task payload must be bytes or None, not {type(payload).__name__}; "
        "use Task.from_json() to send JSON"
    )


def validate_text(what: str, value: object) -> str:
    """Return ``value`` if it is a non-blank ``str`` that UTF-8 can encode; raise otherwise.

    Names (task types, queues, ids, groups) become Redis keys and protobuf ``string`` fields,
    which must be valid UTF-8: a lone surrogate would fail half-way through a write.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"{what} cannot be empty")
    _check_utf8(what, value)
    return value


def _check_utf8(what: str, value: str) -> None:
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValidationError(
            f"{what} must be encodable as UTF-8 (it holds a lone surrogate): {value!r}"
        ) from None


def validate_headers(headers: object) -> dict[str, str]:
    """Return a copy of ``headers`` if it maps ``str`` to ``str`` (field 15); raise otherwise."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValidationError(f"task headers must be a mapping of str to str, not {headers!r}")
    result: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValidationError("task headers must map str to str")
        _check_utf8("a task header", key)
        _check_utf8(f"task header {key!r}", value)
        result[key] = value
    return result


#: The option names a :class:`Task` accepts.
TASK_OPTION_NAMES = TaskOptions.__optional_keys__ | TaskOptions.__required_keys__


def _check_options(options: Mapping[str, Any]) -> None:
    unknown = set(options) - TASK_OPTION_NAMES
    if unknown:
        raise ValidationError(f"unknown task option(s): {', '.join(sorted(unknown))}")


class Task:
    """A unit of work: a type name that selects the handler, an opaque payload and headers.

    Args:
        type: The task type, e.g. ``"email:send"``. Must not be blank.
        payload: Raw bytes handed to the handler; ``None`` is Go's nil payload.
        headers: String metadata carried with the task (e.g. a ``traceparent``).
        **options: Default enqueue options (see :class:`TaskOptions`).

    Raises:
        ValidationError: if the type is not a non-blank UTF-8 ``str``, the payload is not
            bytes, or an option is unknown.
    """

    __slots__ = ("_headers", "_options", "_payload", "_type")

    def __init__(
        self,
        type: str,
        payload: bytes | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **options: Unpack[TaskOptions],
    ) -> None:
        self._type = validate_text("task type", type)
        self._payload = _check_payload(payload)
        self._headers = MappingProxyType(validate_headers(headers))
        _check_options(options)
        self._options: Mapping[str, Any] = MappingProxyType(dict(options))

    @classmethod
    def from_json(
        cls,
        type: str,
        data: Any,
        *,
        headers: Mapping[str, str] | None = None,
        **options: Unpack[TaskOptions],
    ) -> Task:
        """Build a task whose payload is ``data`` encoded as compact UTF-8 JSON.

        Raises:
            ValidationError: ``data`` cannot be encoded as JSON, or as for :class:`Task`.
        """
        try:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            payload = text.encode()
        except (TypeError, ValueError) as exc:  # not JSON-serialisable, a lone surrogate...
            raise ValidationError(f"task payload cannot be encoded as JSON: {exc}") from None
        return cls(type, payload, headers=headers, **options)

    @property
    def type(self) -> str:
        """The task type name."""
        return self._type

    @property
    def payload(self) -> bytes:
        """The payload bytes (``b""`` for a nil payload)."""
        return self._payload or b""

    @property
    def raw_payload(self) -> bytes | None:
        """The payload as given: ``None`` distinguishes Go's nil payload for uniqueness keys."""
        return self._payload

    @property
    def headers(self) -> Mapping[str, str]:
        """Read-only headers."""
        return self._headers

    @property
    def options(self) -> Mapping[str, Any]:
        """Read-only default enqueue options attached to the task."""
        return self._options

    def json(self) -> Any:
        """Decode the payload as JSON."""
        return json.loads(self.payload)

    def __repr__(self) -> str:
        return f"Task(type={self._type!r}, payload={self._payload!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        # The raw payload: None (Go's nil) and b"" lock different uniqueness keys.
        return (self._type, self._payload, dict(self._headers), dict(self._options)) == (
            other._type,
            other._payload,
            dict(other._headers),
            dict(other._options),
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskInfo:
    """What Redis knows about a task (Go's ``TaskInfo``). Times are aware UTC datetimes.

    ``None`` stands for Go's zero time ("never"/"none").

    ``unreadable`` names the fields whose stored value could not be read (a time past year
    9999, a duration too long for ``timedelta``, an infinite score; ``"msg"`` when the whole
    message is undecodable): those fields keep their default here, so one damaged value never
    stops a listing. Such tasks can still be deleted, run or archived by id.
    """

    id: str
    queue: str
    type: str
    payload: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    state: TaskState
    max_retry: int
    retried: int = 0
    last_err: str = ""
    last_failed_at: datetime | None = None
    timeout: timedelta = timedelta(0)
    deadline: datetime | None = None
    group: str = ""
    next_process_at: datetime | None = None
    is_orphaned: bool = False
    retention: timedelta = timedelta(0)
    completed_at: datetime | None = None
    result: bytes | None = None
    unreadable: tuple[str, ...] = ()

    @classmethod
    def from_message(
        cls,
        msg: TaskMessage,
        state: TaskState,
        *,
        next_process_at: datetime | float | None = None,
        result: bytes | None = None,
        is_orphaned: bool = False,
    ) -> TaskInfo:
        """Build the info of a decoded TaskMessage, mapping Go's "0 means none" fields.

        ``next_process_at`` may be given as Unix seconds (a ZSET score, ``0`` for none).
        Values that cannot be represented are listed in ``unreadable`` instead of raising.
        """
        bad: list[str] = []
        if not isinstance(next_process_at, datetime | None):
            next_process_at = _moment("next_process_at", next_process_at, bad)
        return cls(
            id=msg.id,
            queue=msg.queue,
            type=msg.type,
            payload=msg.payload,
            headers=dict(msg.headers),
            state=state,
            max_retry=msg.retry,
            retried=msg.retried,
            last_err=msg.error_msg,
            last_failed_at=_moment("last_failed_at", msg.last_failed_at, bad),
            timeout=_span("timeout", msg.timeout, bad),
            deadline=_moment("deadline", msg.deadline, bad),
            group=msg.group_key,
            next_process_at=next_process_at,
            is_orphaned=is_orphaned,
            retention=_span("retention", msg.retention, bad),
            completed_at=_moment("completed_at", msg.completed_at, bad),
            result=result,
            unreadable=tuple(bad),
        )

    @classmethod
    def unreadable_task(cls, task_id: str, queue: str, state: TaskState) -> TaskInfo:
        """The info of a task whose stored message cannot be decoded at all.

        It lets readers show (and operators delete) the task instead of hiding it.
        """
        return cls(
            id=task_id,
            queue=queue,
            type="",
            payload=b"",
            state=state,
            max_retry=0,
            unreadable=("msg",),
        )

    def json(self) -> Any:
        """Decode the payload as JSON."""
        return json.loads(self.payload)
