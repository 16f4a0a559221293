"""Output helpers: aligned tables like Go's ``tabwriter``, JSON for scripts, friendly values."""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from asynq.task import Task

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
    return truncate(data.decode("utf-8"))


def truncate(text: str, limit: int = MAX_CELL) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_bytes(data: bytes | None) -> str:
    """A payload or result in full for ``inspect``: text when it is UTF-8, else a hex dump."""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "(not UTF-8; hex) " + data.hex(" ")


def format_go_duration(d: timedelta | float) -> str:
    """Go's ``Duration.String()`` of ``d`` rounded to the second: ``1h2m3s``, ``45s``, ``0s``."""
    seconds = round(d.total_seconds() if isinstance(d, timedelta) else d)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{sign}{h}h{m}m{s}s"
    if m:
        return f"{sign}{m}m{s}s"
    return f"{sign}{s}s"


def format_time(t: datetime | None) -> str:
    """Go's ``time.UnixDate`` layout in local time; blank for "never"."""
    if t is None:
        return ""
    return t.astimezone().strftime("%a %b %d %H:%M:%S %Z %Y")


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


def format_bytes(n: int) -> str:
    """A byte count with a binary unit: ``512 B``, ``1.5 KiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def error_rate(processed: int, failed: int) -> str:
    """Go's error-rate cell: ``N/A`` when nothing was processed, else ``12.50%``."""
    if processed == 0:
        return "N/A"
    return f"{failed / processed * 100:.2f}%"


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


def _bytes_fields(name: str, data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {name: None, f"{name}_encoding": None}
    try:
        return {name: data.decode("utf-8"), f"{name}_encoding": "utf-8"}
    except UnicodeDecodeError:
        return {name: base64.b64encode(data).decode("ascii"), f"{name}_encoding": "base64"}


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
                out.update(_bytes_fields(f.name, item))
            else:
                out[f.name] = jsonable(item)
        return out
    if isinstance(value, Task):
        return {"type": value.type, **_bytes_fields("payload", value.payload)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return _bytes_fields("value", value)["value"]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))
