"""Parsers for command-line values written the way Go's tool accepts them.

- durations in Go's ``time.ParseDuration`` syntax: ``30s``, ``1m30s``, ``2h``, ``1.5h``, ``300ms``;
- instants in RFC 3339: ``2030-01-02T15:04:05Z`` or with an offset;
- queue weights: ``name=weight`` (``name`` alone means weight 1).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from asynq._base import gofmt

if TYPE_CHECKING:
    _ParamBase = click.ParamType[Any, Any]  # generic since click 8.2
else:
    _ParamBase = click.ParamType


def parse_go_duration(text: str) -> timedelta:
    """Parse a Go duration string (``time.ParseDuration``) into a ``timedelta``.

    Raises:
        ValueError: the text is not a Go duration (the message says how to write one).
    """
    try:
        ns = gofmt.parse_duration(text.strip())
    except ValueError as exc:
        reason = str(exc).removeprefix("time: ")
        raise ValueError(f"{reason} (use e.g. 30s, 1m30s, 2h)") from None
    return timedelta(microseconds=ns / 1000)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with a zone (``Z`` or ``+hh:mm``) into an aware datetime.

    Raises:
        ValueError: the text is not RFC 3339 or has no zone.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: use RFC 3339, e.g. 2030-01-02T15:04:05Z"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone: add Z or an offset such as +02:00")
    return value


def parse_queue_weight(text: str) -> tuple[str, int]:
    """Parse ``name=weight`` (or a bare ``name``, weight 1) for ``asynq worker --queue``.

    Raises:
        ValueError: blank name, or a weight that is not a positive integer.
    """
    name, sep, weight = text.partition("=")
    name = name.strip()
    if not name:
        raise ValueError(f"invalid queue {text!r}: the name is blank")
    if not sep:
        return name, 1
    try:
        value = int(weight)
    except ValueError:
        raise ValueError(f"invalid queue {text!r}: the weight must be an integer") from None
    if value <= 0:
        raise ValueError(f"invalid queue {text!r}: the weight must be positive")
    return name, value


class GoDuration(_ParamBase):
    """A click parameter holding a Go duration (``30s``, ``1m30s``, ``2h``).

    Args:
        bare_seconds: Also accept a plain number of seconds (``5``, ``0.5``).
    """

    name = "duration"

    def __init__(self, *, bare_seconds: bool = False) -> None:
        self.bare_seconds = bare_seconds

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return a ``timedelta``."""
        if isinstance(value, timedelta):
            return value
        if self.bare_seconds:
            try:
                return timedelta(seconds=float(value))
            except ValueError:
                pass
        try:
            return parse_go_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class RFC3339(_ParamBase):
    """A click parameter holding an RFC 3339 instant."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return an aware ``datetime``."""
        if isinstance(value, datetime):
            return value
        try:
            return parse_rfc3339(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class QueueWeight(_ParamBase):
    """A click parameter holding ``name=weight``."""

    name = "name=weight"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return a ``(name, weight)`` pair."""
        if isinstance(value, tuple):
            return value
        try:
            return parse_queue_weight(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = GoDuration()
#: A duration that may also be written as plain seconds (``--refresh 5`` or ``--refresh 8s``).
INTERVAL = GoDuration(bare_seconds=True)
TIME = RFC3339()
QUEUE_WEIGHT = QueueWeight()
