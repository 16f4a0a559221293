"""Inline SVG charts drawn on the server: no JavaScript, no CDN.

Every label is escaped (queue names come from Redis); colours come from CSS classes in the
shipped stylesheet, so the Content-Security-Policy needs no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from asynq._snapshots import QueueInfo

#: States in the stacked queue-size bars, in Asynqmon's order.
SIZE_STATES = ("active", "pending", "aggregating", "scheduled", "retry", "archived", "completed")


@dataclass(frozen=True, slots=True)
class Day:
    """Processed and failed counts of one day, summed over the shown queues."""

    date: date
    processed: int
    failed: int

    @property
    def succeeded(self) -> int:
        """Processed minus failed."""
        return max(self.processed - self.failed, 0)


def _legend(items: Sequence[tuple[str, str]], x: int, y: int) -> list[str]:
    parts, offset = [], x
    for css, label in items:
        parts.append(f'<rect class="{css}" x="{offset}" y="{y - 9}" width="10" height="10"/>')
        parts.append(f'<text x="{offset + 14}" y="{y}">{escape(label)}</text>')
        offset += 24 + 7 * len(label)
    return parts


def queue_sizes(infos: Sequence[QueueInfo], width: int = 720) -> Markup:
    """Horizontal bars, one per queue, stacked by task state."""
    label_w, row_h, top = 150, 24, 24
    height = top + row_h * max(len(infos), 1) + 8
    biggest = max((sum(getattr(q, s) for s in SIZE_STATES) for q in infos), default=0) or 1
    scale = (width - label_w - 60) / biggest
    parts = [
        f'<svg class="chart" role="img" aria-label="Queue size by state" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    parts += _legend([(f"s-{s}", s) for s in SIZE_STATES], label_w, 14)
    for i, q in enumerate(infos):
        y = top + i * row_h
        parts.append(f'<text class="label" x="{label_w - 8}" y="{y + 15}">{escape(q.queue)}</text>')
        x = float(label_w)
        total = 0
        for state in SIZE_STATES:
            n = getattr(q, state)
            total += n
            if not n:
                continue
            w = n * scale
            parts.append(
                f'<rect class="s-{state}" x="{x:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" '
                f'height="{row_h - 8}"><title>{escape(q.queue)} {state}: {n}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{total}</text>')
    if not infos:
        parts.append(f'<text x="{label_w}" y="{top + 15}">No queues</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def history(days: Sequence[Day], width: int = 720, height: int = 220) -> Markup:
    """Vertical bars per day (oldest left): succeeded and failed stacked."""
    left, bottom, top = 48, 28, 24
    plot_h = height - top - bottom
    n = max(len(days), 1)
    slot = (width - left - 8) / n
    peak = max((d.processed for d in days), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="Tasks processed per day" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    parts += _legend([("s-succeeded", "succeeded"), ("s-failed", "failed")], left, 14)
    base = top + plot_h
    parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - 8}" y2="{base}"/>')
    parts.append(f'<text class="label" x="{left - 6}" y="{top + 10}">{peak}</text>')
    parts.append(f'<text class="label" x="{left - 6}" y="{base}">0</text>')
    bar_w = max(slot * 0.7, 1)
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        ok_h = d.succeeded / peak * plot_h
        fail_h = min(d.failed, d.processed or d.failed) / peak * plot_h
        tip = f"{d.date:%Y-%m-%d}: processed {d.processed}, failed {d.failed}"
        parts.append(f"<g><title>{escape(tip)}</title>")
        if ok_h:
            parts.append(
                f'<rect class="s-succeeded" x="{x:.1f}" y="{base - ok_h:.1f}" '
                f'width="{bar_w:.1f}" height="{ok_h:.1f}"/>'
            )
        if fail_h:
            parts.append(
                f'<rect class="s-failed" x="{x:.1f}" y="{base - ok_h - fail_h:.1f}" '
                f'width="{bar_w:.1f}" height="{fail_h:.1f}"/>'
            )
        parts.append(
            f'<rect class="hit" x="{left + i * slot:.1f}" y="{top}" '
            f'width="{slot:.1f}" height="{plot_h}"/></g>'
        )
    ticks = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    for i in ticks:
        x = left + i * slot + slot / 2
        parts.append(f'<text class="tick" x="{x:.1f}" y="{height - 8}">{days[i].date:%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
