"""Display helpers shared by the CLI and the web dashboard (stdlib only, no click/starlette).

- :func:`format_go_duration`: a duration rounded to the second, in Go's ``Duration.String()``.
- :func:`bytes_fields`: bytes for JSON as text (UTF-8) or base64, plus an ``_encoding`` field.
- :func:`truncate`: cut a string to a length, marking the cut with an ellipsis.
- :func:`utf8_head`: the first bytes of a value, not splitting a UTF-8 character.
- :func:`error_rate`: ``failed / processed`` as a percentage cell.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from asynq._base.gofmt import SECOND, format_duration


def format_go_duration(d: timedelta | float) -> str:
    """Go's ``Duration.String()`` of ``d`` rounded to the second: ``1h2m3s``, ``45s``, ``0s``."""
    seconds = round(d.total_seconds() if isinstance(d, timedelta) else d)
    return format_duration(seconds * SECOND)


def bytes_fields(name: str, data: bytes | None) -> dict[str, Any]:
    """``{name: text-or-base64, name_encoding: "utf-8"|"base64"|None}``."""
    if data is None:
        return {name: None, f"{name}_encoding": None}
    try:
        return {name: data.decode("utf-8"), f"{name}_encoding": "utf-8"}
    except UnicodeDecodeError:
        return {name: base64.b64encode(data).decode("ascii"), f"{name}_encoding": "base64"}


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utf8_head(data: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes, cut back so a multi-byte UTF-8 character stays whole (when
    the data is UTF-8 at all: otherwise just the first ``limit`` bytes)."""
    head = data[:limit]
    for cut in range(len(head), max(len(head) - 4, 0), -1):
        try:
            head[:cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return head[:cut]
    return head


def error_rate(processed: int, failed: int, none: str = "-") -> str:
    """``12.50%``, or ``none`` when nothing was processed."""
    return none if processed == 0 else f"{failed / processed * 100:.2f}%"
