"""Template filters of the admin's asynq pages: ``{% load asynq_admin %}``.

They present values the way asynq's web dashboard does (the same functions underneath): Go
durations, times with their distance from now, sizes, one-line previews of payloads, and
payloads or results as text, pretty-printed JSON or a hex dump.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from asynq._dashboard import format as fmt

register = template.Library()


@register.filter
def go_duration(value: timedelta | float | None) -> str:
    """``1h2m3s``, ``350ms``; ``-`` for none or zero."""
    if value is None or (isinstance(value, timedelta) and not value.total_seconds()):
        return "-"
    return fmt.duration(value)


@register.filter
def relative(value: datetime | None) -> str:
    """``in 3m0s`` / ``5s ago`` / ``-``."""
    return fmt.relative(value)


@register.filter
def when(value: datetime | None) -> SafeString | str:
    """A ``<time>`` saying how far from now (``5s ago``), the exact time in its title; ``-``
    for none."""
    if value is None:
        return "-"
    stamp = fmt.iso(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', stamp, stamp, fmt.relative(value)
    )


@register.filter
def iso(value: datetime | None) -> str:
    """RFC 3339 in UTC (``2026-01-02T03:04:05Z``); empty for none."""
    return fmt.iso(value)


@register.filter
def human_bytes(value: int | float) -> str:
    """``512 B`` / ``1.5 KiB``."""
    return fmt.human_bytes(value)


@register.filter
def preview(value: bytes | str | None, limit: int = 200) -> str:
    """A one-line preview: text with whitespace collapsed, else ``hex: ..``."""
    return fmt.preview(value, int(limit))


@register.filter
def shown_bytes(value: bytes | None) -> fmt.Shown:
    """A payload or result prepared for the task page (at most 64 KiB of it)."""
    return fmt.show_bytes(value)


@register.filter
def unreadable(obj: object, name: str) -> bool:
    """Whether ``name`` is one of the values of ``obj`` Redis could not read (damaged data)."""
    return name in getattr(obj, "unreadable", ())
