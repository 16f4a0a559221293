"""Descriptions of Redis calls that broker ops yield to a driver.

An op (see :mod:`asynq._broker.ops`) is a generator: it yields one of these values, the driver
performs it and sends the reply back in. Ops never touch a socket, so the same op runs under the
sync and the async driver, and can be driven with canned replies in unit tests.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from asynq.errors import BrokerReplyError

T = TypeVar("T")

#: Anything Redis accepts as an argument, rendered the way go-redis renders it.
Arg: TypeAlias = str | bytes | int | float


@dataclass(frozen=True, slots=True)
class Command:
    """A plain Redis command, e.g. ``Command(("SADD", "asynq:queues", "default"))``."""

    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Script:
    """A call of one of the package's Lua scripts, named after its ``lua/<name>.lua`` file."""

    name: str
    keys: tuple[str, ...]
    args: tuple[Arg, ...] = ()


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Several calls sent in one round trip; the reply is the list of their replies.

    Replies that are Redis errors come back as :class:`ReplyError` *values* in the list rather
    than being raised, so an op can tell which call failed. ``transaction=True`` wraps the calls
    in MULTI/EXEC (standalone Redis only).
    """

    calls: tuple[Command | Script, ...]
    transaction: bool = False


@dataclass(frozen=True, slots=True)
class Stream:
    """A pipeline whose calls are produced while it is being sent.

    ``calls`` is iterated once. A driver that can (the fast lane) packs and sends the first
    calls while later ones are still being made, so Redis works while the caller builds the
    rest; other drivers collect them into a :class:`Pipeline` first. Either way the reply is a
    Pipeline's: one value per call, in order, errors as :class:`ReplyError` values.

    Because some calls may have run before the last is made, making a call must not fail, and
    each must be a :class:`Script` or a :class:`Command` whose reply redis-py leaves as it is
    (``SADD``, ``LPUSH``..., not ``HGETALL``), with ``str``/``bytes``/``int``/``float`` arguments.
    """

    calls: Iterable[Command | Script]


Call: TypeAlias = Command | Script | Pipeline | Stream

#: A broker operation: yields calls, receives replies, returns ``T``.
Op: TypeAlias = Generator[Call, Any, T]


class ReplyError(BrokerReplyError):
    """Redis answered a call with an error reply (for example a script's ``NOT FOUND``)."""


def as_str(value: Any) -> str:
    """Decode a Redis bulk reply to ``str`` (replies arrive as bytes)."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def as_text(value: Any) -> str:
    """Like :func:`as_str`, but never fails: bytes that are not UTF-8 are shown escaped.

    For values read back for display (ids, names in damaged data); a name shown this way
    does not address the original key.
    """
    if isinstance(value, bytes):
        return value.decode(errors="backslashreplace")
    return str(value)


def as_int(value: Any) -> int:
    """Parse an integer reply the way Go's ``cast.ToInt64E`` does (nil → 0)."""
    if value is None or value is False:
        return 0
    if isinstance(value, int):
        return value
    text = as_str(value)
    return int(float(text)) if "." in text else int(text)
