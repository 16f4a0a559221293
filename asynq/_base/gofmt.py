"""Go's text formats that asynq writes into Redis, and parsers for them.

Go's scheduler stores each enqueue option as ``Option.String()`` inside ``SchedulerEntry``
(``enqueue_options``), and Go's ``Inspector.SchedulerEntries()`` parses those strings back. A
string that is not of the form ``Name(args)`` makes that parser panic, so everything here
produces exactly Go's forms:

- :func:`format_duration` is ``time.Duration.String()``: ``1h0m0s``, ``1.5s``, ``500ms``.
- :func:`parse_duration` is ``time.ParseDuration``.
- :func:`format_unix_date` is ``time.Time.Format(time.UnixDate)``, always in UTC (see there).
- :func:`quote` / :func:`unquote` are ``strconv.Quote`` (``%q``) / ``strconv.Unquote``.
- :func:`option_string` / :func:`option_strings` give ``Option.String()`` for each option.
- :func:`parse_option` reads such a string back.

Everything here is pure. Bad input raises ``ValueError`` (this module sits below
:mod:`asynq.errors`; callers re-raise it as :class:`~asynq.errors.ValidationError`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = [
    "GO_INSPECTOR_OPTIONS",
    "OPTION_NAMES",
    "duration_ns",
    "format_duration",
    "format_unix_date",
    "option_string",
    "option_strings",
    "parse_duration",
    "parse_option",
    "parse_unix_date",
    "quote",
    "unquote",
    "unix_seconds",
]

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_MAX_INT64 = (1 << 63) - 1

#: Python option name -> Go option function name, in Go's ``OptionType`` order.
OPTION_NAMES: Mapping[str, str] = {
    "max_retry": "MaxRetry",
    "queue": "Queue",
    "timeout": "Timeout",
    "deadline": "Deadline",
    "unique": "Unique",
    "process_at": "ProcessAt",
    "process_in": "ProcessIn",
    "task_id": "TaskID",
    "retention": "Retention",
    "group": "Group",
}

#: The option names Go v0.26.0's ``Inspector.SchedulerEntries()`` parses back; it silently
#: drops ``TaskID(...)`` and ``Group(...)``.
GO_INSPECTOR_OPTIONS = frozenset(
    {"Queue", "MaxRetry", "Timeout", "Deadline", "Unique", "ProcessAt", "ProcessIn", "Retention"}
)

_GO_TO_PY = {go: py for py, go in OPTION_NAMES.items()}
_DURATION_OPTIONS = frozenset({"timeout", "unique", "process_in", "retention"})
_TIME_OPTIONS = frozenset({"deadline", "process_at"})
_STRING_OPTIONS = frozenset({"queue", "task_id", "group"})


# --- time.Duration -------------------------------------------------------------------------


def duration_ns(value: Any) -> int:
    """Nanoseconds of a Python duration: a number of seconds or a ``timedelta``.

    Raises:
        ValueError: for anything else, or a value outside Go's int64 nanoseconds.
    """
    if isinstance(value, timedelta):
        # Integer arithmetic: timedelta is exact to the microsecond.
        ns = ((value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds) * 1000
    elif isinstance(value, int) and not isinstance(value, bool):
        ns = value * SECOND
    elif isinstance(value, float) and math.isfinite(value):
        ns = round(value * SECOND)
    else:
        raise ValueError(f"expected a number of seconds or a timedelta, not {value!r}")
    if not -_MAX_INT64 - 1 <= ns <= _MAX_INT64:
        raise ValueError(f"duration out of range: {value!r}")
    return ns


def _frac(v: int, prec: int) -> tuple[str, int]:
    """Go's ``fmtFrac``: the fraction of ``v / 10**prec`` without trailing zeros, and the rest."""
    digits: list[str] = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    text = "." + "".join(reversed(digits)) if printed else ""
    return text, v


def format_duration(ns: int) -> str:
    """``time.Duration(ns).String()``: ``0s``, ``1ns``, ``1.5µs``, ``500ms``, ``1h0m0s``."""
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u == 0:
            return "0s"
        if u < MICROSECOND:
            prec, unit = 0, "ns"
        elif u < MILLISECOND:
            prec, unit = 3, "\u00b5s"  # Go writes the micro sign U+00B5
        else:
            prec, unit = 6, "ms"
        frac, whole = _frac(u, prec)
        text = f"{whole}{frac}{unit}"
    else:
        frac, secs = _frac(u, 9)
        text = f"{secs % 60}{frac}s"
        minutes = secs // 60
        if minutes > 0:
            text = f"{minutes % 60}m{text}"
            hours = minutes // 60
            if hours > 0:
                text = f"{hours}h{text}"
    return "-" + text if neg else text


_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # micro sign
    "\u03bcs": MICROSECOND,  # Greek small letter mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}


def _leading_int(s: str) -> tuple[int, str]:
    i, x = 0, 0
    while i < len(s) and "0" <= s[i] <= "9":
        x = x * 10 + ord(s[i]) - 48
        if x > 1 << 63:
            raise ValueError("overflow")
        i += 1
    return x, s[i:]


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Digits after the point; digits beyond int64 precision are consumed and ignored."""
    i, x, scale, overflow = 0, 0, 1.0, False
    while i < len(s) and "0" <= s[i] <= "9":
        if not overflow:
            if x > _MAX_INT64 // 10:
                overflow = True
            else:
                y = x * 10 + ord(s[i]) - 48
                if y > 1 << 63:
                    overflow = True
                else:
                    x = y
                    scale *= 10
        i += 1
    return x, scale, s[i:]


def _component(s: str, orig: str) -> tuple[int, str]:
    """Parse one ``<number><unit>`` off the front of ``s``; return nanoseconds and the rest."""
    invalid = ValueError(f"time: invalid duration {quote(orig)}")
    if not (s[0] == "." or "0" <= s[0] <= "9"):
        raise invalid
    before = len(s)
    try:
        v, s = _leading_int(s)
    except ValueError:
        raise invalid from None
    pre = before != len(s)
    f, scale, post = 0, 1.0, False
    if s and s[0] == ".":
        s = s[1:]
        before = len(s)
        f, scale, s = _leading_fraction(s)
        post = before != len(s)
    if not pre and not post:
        raise invalid
    i = 0
    while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
        i += 1
    if i == 0:
        raise ValueError(f"time: missing unit in duration {quote(orig)}")
    unit_name, s = s[:i], s[i:]
    unit = _UNITS.get(unit_name)
    if unit is None:
        raise ValueError(f"time: unknown unit {quote(unit_name)} in duration {quote(orig)}")
    if v > (1 << 63) // unit:
        raise invalid
    v *= unit
    if f > 0:
        # Go does this step in float64 too; Python floats are the same IEEE doubles.
        v += int(float(f) * (float(unit) / scale))
        if v > 1 << 63:
            raise invalid
    return v, s


def parse_duration(text: str) -> int:
    """``time.ParseDuration``: ``"1h30m"``, ``"1.5s"``, ``"-2m"``, ``"0"`` -> nanoseconds.

    Raises:
        ValueError: with Go's message, e.g. ``time: missing unit in duration "1"``.
    """
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {quote(text)}")
    total = 0
    while s:
        v, s = _component(s, text)
        total += v
        if total > 1 << 63:
            raise ValueError(f"time: invalid duration {quote(text)}")
    if neg:
        return -total
    if total > _MAX_INT64:
        raise ValueError(f"time: invalid duration {quote(text)}")
    return total


# --- time.UnixDate ---------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def unix_seconds(value: Any) -> int:
    """Whole Unix seconds (floored, as Go's ``Time.Unix()``) of a number or an aware datetime.

    Raises:
        ValueError: for a naive datetime or anything that is not a point in time.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("expected an aware datetime (give it a tzinfo)")
        return math.floor(value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return math.floor(value)
    raise ValueError(f"expected Unix seconds or an aware datetime, not {value!r}")


def format_unix_date(value: Any) -> str:
    """``t.Format(time.UnixDate)`` with ``t`` in UTC: ``Mon Jan  2 15:04:05 UTC 2006``.

    Go formats in the ``time.Time``'s own location (usually the machine's). UTC is used here
    on purpose: Go's ``time.Parse(time.UnixDate, ...)`` gives the right instant back for
    ``UTC`` on any machine, while another zone abbreviation is read as UTC+0 unless it happens
    to be the reader's local zone. Sub-second parts are dropped, as in Go.
    """
    dt = datetime.fromtimestamp(unix_seconds(value), UTC)
    return (
        f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:>2} "
        f"{dt.hour:02}:{dt.minute:02}:{dt.second:02} UTC {dt.year:04}"
    )


_UNIX_DATE_RE = re.compile(
    r"(?P<wd>[A-Z][a-z]{2}) (?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]?\d) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<zone>[A-Za-z]{3,5}|[+-]\d\d(?:\d\d)?) "
    r"(?P<year>\d{4})"
)


def parse_unix_date(text: str) -> datetime:
    """Parse a ``time.UnixDate`` string into an aware datetime.

    ``+hhmm``/``-hhmm`` zones are honoured; a zone abbreviation counts as UTC+0, which is
    what Go does for any abbreviation other than its own local zone's.

    Raises:
        ValueError: if ``text`` is not in that layout.
    """
    m = _UNIX_DATE_RE.fullmatch(text)
    if m is None or m["mon"] not in _MONTHS or m["wd"] not in _DAYS:
        raise ValueError(f"cannot parse {text!r} as time.UnixDate")
    zone = m["zone"]
    tz: timezone = UTC
    if zone[0] in "+-":
        minutes = int(zone[1:3]) * 60 + (int(zone[3:5]) if len(zone) == 5 else 0)
        tz = timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
    return datetime(
        int(m["year"]),
        _MONTHS.index(m["mon"]) + 1,
        int(m["day"]),
        int(m["h"]),
        int(m["m"]),
        int(m["s"]),
        tzinfo=tz,
    )


# --- strconv.Quote / Unquote -----------------------------------------------------------------

_SIMPLE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


def quote(text: str) -> str:
    """Go's ``strconv.Quote`` (the ``%q`` verb): printable runes kept, others escaped.

    Python's ``str.isprintable`` and Go's ``unicode.IsPrint`` share one definition (letters,
    marks, numbers, punctuation, symbols and the ASCII space).
    """
    out = ['"']
    for ch in text:
        simple = _SIMPLE_ESCAPES.get(ch)
        if simple is not None:
            out.append(simple)
            continue
        r = ord(ch)
        if ch.isprintable() and not 0xD800 <= r <= 0xDFFF:
            out.append(ch)
        elif r < 0x20 or r == 0x7F:
            out.append(f"\\x{r:02x}")
        elif 0xD800 <= r <= 0xDFFF:
            out.append("\\ufffd")  # Go writes an invalid rune as U+FFFD
        elif r < 0x10000:
            out.append(f"\\u{r:04x}")
        else:
            out.append(f"\\U{r:08x}")
    out.append('"')
    return "".join(out)


_UNESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_OCT_RE = re.compile(r"[0-7]{3}")


def _unescape(body: str, i: int, out: bytearray, quote: str) -> int:
    """Decode the escape starting at ``body[i]`` (a backslash) into ``out``; return the next i.

    Only the enclosing ``quote`` may be escaped (``\\"`` in a string, ``\\'`` in a rune).
    Raises ``ValueError``/``IndexError`` for a malformed escape.
    """
    esc = body[i + 1]
    if esc in _UNESCAPES:
        out.append(_UNESCAPES[esc])
        return i + 2
    if esc == quote:
        out.append(ord(quote))
        return i + 2
    if esc in _HEX_WIDTH:
        width = _HEX_WIDTH[esc]
        digits = body[i + 2 : i + 2 + width]
        if len(digits) != width or not _HEX_RE.fullmatch(digits):
            raise ValueError("bad hex escape")
        value = int(digits, 16)
        if esc == "x":
            out.append(value)
        elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise ValueError("bad rune")
        else:
            out += chr(value).encode()
        return i + 2 + width
    digits = body[i + 1 : i + 4]
    if not _OCT_RE.fullmatch(digits) or int(digits, 8) > 255:
        raise ValueError("bad escape")
    out.append(int(digits, 8))
    return i + 4


def unquote(text: str) -> str:
    """Go's ``strconv.Unquote``: a double-quoted or back-quoted string, or a one-rune
    single-quoted literal (``'x'``). Byte escapes that do not form UTF-8 are refused, since a
    ``str`` cannot hold them.

    Raises:
        ValueError: ``invalid syntax`` as in Go.
    """
    if len(text) >= 2 and text[0] == text[-1] == "`":
        body = text[1:-1]
        if "`" in body:
            raise ValueError(f"invalid syntax: {text!r}")
        return body.replace("\r", "")
    quote = text[:1]
    if len(text) < 2 or quote not in "\"'" or text[-1] != quote:
        raise ValueError(f"invalid syntax: {text!r}")
    body = text[1:-1]
    out = bytearray()
    i = 0
    try:
        while i < len(body):
            ch = body[i]
            if ch in (quote, "\n"):
                raise ValueError(ch)
            if ch == "\\":
                i = _unescape(body, i, out, quote)
            else:
                out += ch.encode()
                i += 1
        value = out.decode()
    except (ValueError, IndexError):
        raise ValueError(f"invalid syntax: {text!r}") from None
    if quote == "'" and len(value) != 1:
        raise ValueError(f"invalid syntax: {text!r}")
    return value


# --- Option.String() -------------------------------------------------------------------------


def option_string(name: str, value: Any) -> str:
    """``Option.String()`` of one Python enqueue option, e.g. ``("queue", "q")`` -> ``Queue("q")``.

    Durations are seconds or ``timedelta``; instants are Unix seconds or aware datetimes.

    Raises:
        ValueError: for an unknown option name or a value of the wrong kind.
    """
    go_name = OPTION_NAMES.get(name)
    if go_name is None:
        raise ValueError(f"option {name!r} has no Go form")
    if name == "max_retry":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"max_retry must be an int, not {value!r}")
        return f"MaxRetry({max(value, 0)})"  # Go's MaxRetry(n) stores n < 0 as 0
    if name in _STRING_OPTIONS:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a str, not {value!r}")
        return f"{go_name}({quote(value)})"
    if name in _DURATION_OPTIONS:
        return f"{go_name}({format_duration(duration_ns(value))})"
    return f"{go_name}({format_unix_date(value)})"


def option_strings(options: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[str]:
    """Go forms of the options that have one, in the given order.

    ``None`` values (an unset option) and options without a Go form in v0.26.0 (``headers``)
    are left out: Go's Inspector must only ever see strings it can split as ``Name(args)``.
    """
    items = options.items() if isinstance(options, Mapping) else options
    return [option_string(k, v) for k, v in items if v is not None and k in OPTION_NAMES]


def parse_option(text: str) -> tuple[str, Any]:
    """Read an ``Option.String()`` form back as ``(python_name, value)``.

    Values: ``int`` for ``max_retry``, ``str`` for ``queue``/``task_id``/``group``,
    ``timedelta`` for durations, aware UTC ``datetime`` for ``deadline``/``process_at``.
    Like Go's parser, the argument is the text between the first ``(`` and the first ``)``.
    Go's own Inspector reads only the names in :data:`GO_INSPECTOR_OPTIONS`; this also reads
    ``TaskID`` and ``Group``.

    Raises:
        ValueError: for an unknown name or an unparsable argument.
    """
    i = text.find("(")
    j = text.find(")")
    if i < 0:
        raise ValueError(f"cannot parse option string {text!r}")
    go_name = text[:i]
    arg = text[i + 1 : j] if j > i else ""
    name = _GO_TO_PY.get(go_name)
    if name is None:
        raise ValueError(f"cannot parse option string {text!r}")
    if name == "max_retry":
        if not re.fullmatch(r"[+-]?\d+", arg):
            raise ValueError(f"cannot parse option string {text!r}")
        return name, int(arg)
    if name in _STRING_OPTIONS:
        return name, unquote(arg)
    if name in _DURATION_OPTIONS:
        return name, timedelta(microseconds=parse_duration(arg) // 1000)
    return name, parse_unix_date(arg).astimezone(UTC)
