"""Go's reading of scheduler option strings (``parseOption`` in ``inspector.go``).

Schedulers store each enqueue option as Go's ``Option.String()``, e.g. ``Queue("critical")``,
``MaxRetry(3)`` or ``Timeout(1m30s)``. Go's Inspector parses them back and keeps only the
``Queue``, ``MaxRetry``, ``Timeout``, ``Deadline``, ``Unique``, ``ProcessAt``, ``ProcessIn`` and
``Retention`` options it can parse: ``TaskID(...)``, ``Group(...)`` and malformed strings are
dropped (QUIRK Q13; a string without ``(`` even crashes Go, QUIRK Q15). :func:`normalize`
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
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(
    r'\\(?:([abfnrtv\\"])|([0-7]{3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))'
)


def parse_go_duration(text: str) -> int | None:
    """Go's ``time.ParseDuration`` in nanoseconds, or ``None`` where Go returns an error."""
    try:
        return gofmt.parse_duration(text)
    except ValueError:
        return None


#: Go's ``time.Duration.String``: ``1h2m3.5s``, ``1.5ms``, ``0s``.
format_go_duration = gofmt.format_duration


def _unescape(match: re.Match[str]) -> str:
    simple, octal, hex2, hex4, hex8 = match.groups()
    if simple:
        return _ESCAPES.get(simple, simple)
    if octal or hex2:
        code = int(octal, 8) if octal else int(hex2, 16)
        if code > 0x7F:
            raise ValueError("byte escapes above 0x7f are not text")
        return chr(code)
    code = int(hex4 or hex8, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ValueError("not a Unicode code point")
    return chr(code)


def go_unquote(text: str) -> str | None:
    """Go's ``strconv.Unquote`` for the forms a queue name takes; ``None`` where it fails."""
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"`'":
        return None
    body = text[1:-1]
    if text[0] == "`":
        return None if "`" in body else body.replace("\r", "")
    if "\n" in body or (text[0] == '"' and re.search(r'(?<!\\)(?:\\\\)*"', body)):
        return None
    rest = _ESCAPE.sub("", body)
    if "\\" in rest:
        return None  # an escape Go rejects, such as \' inside double quotes
    try:
        value = _ESCAPE.sub(_unescape, body)
    except ValueError:
        return None
    if text[0] == "'" and len(value) != 1:
        return None
    return value


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string (``strconv.Quote``) for the characters a queue name uses."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable() and code != 0x7F:
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


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
