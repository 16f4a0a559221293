"""Go's reading of scheduler option strings (``parseOption`` in ``inspector.go``).

Schedulers store each enqueue option as Go's ``Option.String()``, e.g. ``Queue("critical")``,
``MaxRetry(3)`` or ``Timeout(1m30s)``. Go's Inspector parses them back and keeps only the
``Queue``, ``MaxRetry``, ``Timeout``, ``Deadline``, ``Unique``, ``ProcessAt``, ``ProcessIn`` and
``Retention`` options it can parse: ``TaskID(...)``, ``Group(...)`` and malformed strings are
dropped (docs/compatibility.md#quirk-scheduler-option-strings; a string without ``(`` even
crashes Go, docs/compatibility.md#quirk-option-string-without-parenthesis). :func:`normalize`
returns the string Go's parsed option prints (``Timeout(90s)`` reads back as
``Timeout(1m30s)``), or ``None`` when Go drops it.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from asynq._base import gofmt

_MAX_INT64 = 2**63 - 1
_INT = re.compile(r"[+-]?\d+")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_ZONE = r"ChST|MeST|GMT(?:[+-]\d{1,2})?|[+-]\d{2}(?::?\d{2})?|[A-Z]{3}|[A-Z]{3}T|[A-Z]{4}T|WITA"
# Go's time.UnixDate layout, "Mon Jan _2 15:04:05 MST 2006", as time.Parse reads it.
_UNIX_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (" + "|".join(_MONTHS) + r")  ?(\d{1,2}) "
    r"(\d{1,2}):(\d\d):(\d\d) (" + _ZONE + r") (\d{4})"
)


def parse_go_duration(text: str) -> int | None:
    """Go's ``time.ParseDuration`` in nanoseconds, or ``None`` where Go returns an error."""
    try:
        return gofmt.parse_duration(text)
    except ValueError:
        return None


#: Go's ``time.Duration.String``: ``1h2m3.5s``, ``1.5ms``, ``0s``.
format_go_duration = gofmt.format_duration


def go_unquote(text: str) -> str | None:
    """Go's ``strconv.Unquote``, or ``None`` where it fails (see :func:`gofmt.unquote`)."""
    try:
        return gofmt.unquote(text)
    except ValueError:
        return None


#: Go's ``%q`` of a string (``strconv.Quote``).
go_quote = gofmt.quote


def _unix_date(text: str) -> str | None:
    """Go's ``time.Parse(time.UnixDate, text)`` formatted back with ``time.UnixDate``."""
    match = _UNIX_DATE.fullmatch(text)
    if match is None:
        return None
    month_name, day, hour, minute, second, zone, year = match.groups()
    month = _MONTHS.index(month_name) + 1
    d, h, y = int(day), int(hour), int(year)
    if not 1 <= d <= calendar.monthrange(y or 2000, month)[1] or y == 0:
        return None
    if h > 23 or int(minute) > 59 or int(second) > 59:
        return None
    weekday = date(y, month, d).strftime("%a")  # Go prints the real weekday, not the given one
    return f"{weekday} {month_name} {d:>2} {h:02}:{minute}:{second} {zone} {year}"


def normalize(option: str) -> str | None:
    """The string Go's Inspector reports for a stored option string, or ``None`` if dropped."""
    start = option.find("(")
    if start < 0:
        return None
    name = option[:start]
    end = option.find(")")
    arg = option[start + 1 : end] if end > start else ""
    if name == "Queue":
        queue = go_unquote(arg)
        return None if queue is None else f"Queue({go_quote(queue)})"
    if name == "MaxRetry":
        if not _INT.fullmatch(arg) or not -(2**63) <= int(arg) <= _MAX_INT64:
            return None
        return f"MaxRetry({max(int(arg), 0)})"  # Go's MaxRetry turns a negative count into 0
    if name in ("Timeout", "Unique", "ProcessIn", "Retention"):
        ns = parse_go_duration(arg)
        return None if ns is None else f"{name}({format_go_duration(ns)})"
    if name in ("Deadline", "ProcessAt"):
        when = _unix_date(arg)
        return None if when is None else f"{name}({when})"
    return None
