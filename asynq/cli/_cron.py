"""``asynq cron``: list periodic-task entries of live schedulers and their enqueue history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from asynq.cli._base import Failures, group, json_option
from asynq.cli._render import echo_json, echo_table, format_ago, format_go_duration, sprint_bytes
from asynq.cli._state import inspector

_SEPARATOR = "================================================="


@group("cron", help="Manage cron (periodic tasks).")
def cron() -> None:
    """Manage cron (periodic tasks)."""


def _next(t: datetime | None) -> str:
    if t is None:
        return "N/A"
    delta = t - datetime.now(UTC)
    return "Now" if delta.total_seconds() < 0 else f"In {format_go_duration(delta)}"


@cron.command("ls")
@json_option
def cron_ls(as_json: bool) -> None:
    """List scheduler entries: id, spec, task, options, next and previous enqueue."""
    entries = sorted(inspector().scheduler_entries(), key=lambda e: e.spec)
    if as_json:
        echo_json(entries)
        return
    if not entries:
        click.echo("No scheduler entries")
        return
    echo_table(
        ["EntryID", "Spec", "Type", "Payload", "Options", "Next", "Prev"],
        [
            [
                e.id,
                e.spec,
                e.task.type,
                sprint_bytes(e.task.payload),
                ", ".join(e.opts),
                _next(e.next),
                format_ago(e.prev),
            ]
            for e in entries
        ],
    )


@cron.command("history")
@click.argument("entry_ids", nargs=-1, required=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--size", type=click.IntRange(min=1), default=30, show_default=True)
@json_option
def cron_history(entry_ids: tuple[str, ...], page: int, size: int, as_json: bool) -> None:
    """Show the enqueue history of one or more entries, newest first."""
    insp, failures = inspector(), Failures()
    result: dict[str, Any] = {}
    for entry_id in entry_ids:
        with failures.item():
            result[entry_id] = insp.list_scheduler_enqueue_events(
                entry_id, page=page, page_size=size
            )
    if as_json:
        echo_json(result)
    else:
        for i, (entry_id, events) in enumerate(result.items()):
            if i:
                click.echo(f"\n{_SEPARATOR}")
            click.echo(f"\nEntry: {entry_id}\n")
            if not events:
                click.echo(f"No scheduler enqueue events found for entry: {entry_id}")
                continue
            echo_table(
                ["TaskID", "EnqueuedAt"],
                [[e.task_id, e.enqueued_at.isoformat() if e.enqueued_at else ""] for e in events],
            )
    failures.exit()


cron.alias("ls", "list")
