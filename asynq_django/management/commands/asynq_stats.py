"""``manage.py asynq_stats``: task counts per queue and state (``--json``, ``--interval``)."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from asynq import QueueInfo, QueueNotFoundError
from asynq_django.clients import get_inspector
from asynq_django.management.base import asynq_errors, settings_or_error

COLUMNS = (
    "pending",
    "active",
    "scheduled",
    "retry",
    "archived",
    "completed",
    "aggregating",
    "processed",
    "failed",
)


def queue_stats() -> list[QueueInfo]:
    """The info of every registered queue (a queue deleted meanwhile is left out)."""
    inspector = get_inspector(settings_or_error())
    infos = []
    with asynq_errors():
        for queue in inspector.queues():
            try:
                infos.append(inspector.get_queue_info(queue))
            except QueueNotFoundError:
                continue
    return infos


def as_json(infos: list[QueueInfo]) -> str:
    """One JSON object: ``{"queues": [{"queue": ..., "pending": ..., ...}], "totals": {...}}``."""
    rows = []
    for info in infos:
        row = dataclasses.asdict(info)
        row["latency"] = info.latency.total_seconds()
        row["timestamp"] = info.timestamp.isoformat()
        rows.append(row)
    totals = {column: sum(getattr(i, column) for i in infos) for column in COLUMNS}
    return json.dumps({"queues": rows, "totals": totals}, sort_keys=True)


def as_table(infos: list[QueueInfo]) -> str:
    """A fixed-width table, one line per queue, paused queues marked."""
    header = ["queue", *COLUMNS]
    rows = [
        [i.queue + (" (paused)" if i.paused else ""), *(str(getattr(i, c)) for c in COLUMNS)]
        for i in infos
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines) if infos else "No queues"


class Command(BaseCommand):
    help = "Show task counts per queue and state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object per report.")
        parser.add_argument(
            "--interval",
            type=float,
            default=0,
            help="Report again every this many seconds until interrupted (default: once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval < 0:
            raise CommandError(f"--interval must be >= 0, not {interval}")
        render = as_json if options["json"] else as_table
        try:
            while True:
                self.stdout.write(render(queue_stats()))
                if not interval:
                    return
                self.stdout.flush()
                time.sleep(interval)
        except KeyboardInterrupt:
            return
