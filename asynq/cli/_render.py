"""Output helpers: aligned tables like Go's ``tabwriter``, JSON for scripts, friendly values."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from asynq._base.display import bytes_fields, truncate, utf8_head
from asynq._base.display import error_rate as _error_rate
from asynq._base.display import format_go_duration as format_go_duration
from asynq._task import Task

#: Table cells longer than this are cut (``--json`` always carries the full value).
MAX_CELL = 80


def is_printable(data: bytes) -> bool:
    """Go's ``isPrintable``: valid UTF-8, printable runes only (space allowed), not all blank."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return text.isprintable() and text.strip(" ") != ""


def sprint_bytes(data: bytes | None) -> str:
    """A payload for a table cell: the text if printable, else Go's ``non-printable bytes``."""
    if not data:
        return ""
    if not is_printable(data):
        return "non-printable bytes"
    return truncate(data.decode("utf-8"), MAX_CELL)


#: Bytes of a payload or result ``task inspect`` prints unless asked for all (``--full``).
INSPECT_BYTES = 4096


def show_bytes(data: bytes | None, limit: int | None = INSPECT_BYTES) -> str:
    """A payload or result for ``inspect``: text when it is UTF-8, else a hex dump.

    Only the first ``limit`` bytes (``None``: all), so a multi-megabyte payload does not flood
    the terminal; a last line says how many bytes were left out.
    """
    if data is None:
        return ""
    head = data if limit is None or len(data) <= limit else utf8_head(data, limit)
    try:
        shown = head.decode("utf-8")
    except UnicodeDecodeError:
        head = data[: len(data) if limit is None else limit]
        shown = "(not UTF-8; hex) " + head.hex(" ")
    if len(head) < len(data):
        shown += f"\n… {len(data) - len(head)} more bytes; --full to show all"
    return shown


#: What a table shows for a value that could not be read from Redis (damaged data).
UNREADABLE = "(unreadable)"


def cell(item: Any, name: str, render: Callable[[Any], Any] = str) -> Any:
    """``render(item.<name>)``, or :data:`UNREADABLE` when ``item.unreadable`` names it."""
    if name in getattr(item, "unreadable", ()):
        return UNREADABLE
    return render(getattr(item, name))


def unreadable_note(item: Any, what: str) -> None:
    """Warn on stderr that some of ``item``'s stored values could not be read."""
    bad = getattr(item, "unreadable", ())
    if bad:
        click.echo(f"warning: {what}: unreadable data in {', '.join(bad)}", err=True)


def format_time(t: datetime | None) -> str:
    """Go's ``time.UnixDate`` layout in local time; blank for "never"."""
    if t is None:
        return ""
    try:
        return t.astimezone().strftime("%a %b %d %H:%M:%S %Z %Y")
    except (OverflowError, ValueError):  # near year 1 or 9999: local time does not fit
        return t.isoformat()


def format_until(t: datetime | None, now: datetime | None = None) -> str:
    """``in 1m30s`` for a future time, ``right now`` for a past one (Go's ``formatProcessAt``)."""
    if t is None:
        return ""
    delta = t - (now or datetime.now(UTC))
    if delta.total_seconds() < 0:
        return "right now"
    return f"in {format_go_duration(delta)}"


def format_ago(t: datetime | None, now: datetime | None = None) -> str:
    """``1m30s ago`` (Go's ``timeAgo``); ``N/A`` for "never"."""
    if t is None:
        return "N/A"
    return f"{format_go_duration((now or datetime.now(UTC)) - t)} ago"


def error_rate(processed: int, failed: int) -> str:
    """Go's error-rate cell: ``N/A`` when nothing was processed, else ``12.50%``."""
    return _error_rate(processed, failed, none="N/A")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Render an aligned table: headers, a dash rule under each, then the rows.

    Columns are separated by two spaces, as Go's ``tabwriter`` with padding 2 does.
    """
    cells = [[str(h) for h in headers]]
    cells.append(["-" * len(str(h)) for h in headers])
    cells.extend([str(c) for c in row] for row in rows)
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print :func:`table` to stdout."""
    click.echo(table(headers, rows))


def jsonable(value: Any) -> Any:
    """Convert asynq values to JSON types.

    Datetimes become RFC 3339 strings, durations seconds, enums their value. A bytes field
    ``x`` becomes ``x`` (UTF-8 text, or base64 when not UTF-8) plus ``x_encoding``.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if isinstance(item, bytes) or (item is None and "bytes" in str(f.type)):
                out.update(bytes_fields(f.name, item))
            else:
                out[f.name] = jsonable(item)
        return out
    if isinstance(value, Task):
        return {"type": value.type, **bytes_fields("payload", value.payload)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return bytes_fields("value", value)["value"]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))
