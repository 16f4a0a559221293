"""``asynq queue``: list, inspect, history, pause, resume and remove queues."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import click

from asynq._snapshots import QueueInfo
from asynq.cli._base import Failures, group, json_option
from asynq.cli._progress import Progress
from asynq.cli._render import cell, echo_json, echo_table, error_rate, unreadable_note
from asynq.cli._state import get_state, inspector
from asynq.errors import QueueNotEmptyError

_SEPARATOR = "================================================="
_STATES = ("active", "pending", "aggregating", "scheduled", "retry", "archived", "completed")


@group("queue", help="Manage queues.")
def queue() -> None:
    """Manage queues."""


@queue.command("ls")
@json_option
def queue_ls(as_json: bool) -> None:
    """List queues (with --cluster: their key slot and nodes)."""
    state = get_state()
    insp = state.inspector()
    rows: list[dict[str, Any]] = [{"queue": q} for q in sorted(insp.queues())]
    if state.connection.is_cluster:
        for row in rows:
            row["keyslot"] = insp.cluster_key_slot(row["queue"])
            row["nodes"] = insp.cluster_nodes(row["queue"])
    if as_json:
        echo_json(rows)
    elif state.connection.is_cluster:
        echo_table(
            ["Queue", "Cluster KeySlot", "Cluster Nodes"],
            [
                [r["queue"], r["keyslot"], " ".join(f"{n.id}@{n.addr}" for n in r["nodes"])]
                for r in rows
            ],
        )
    else:
        for row in rows:
            click.echo(row["queue"])


def print_queue_info(info: QueueInfo) -> None:
    """Print one queue the way Go's ``asynq queue inspect`` does."""
    click.secho("Queue Info", bold=True)
    click.echo(f"Name:   {info.queue}")
    click.echo(f"Size:   {info.size}")
    click.echo(f"Groups: {info.groups}")
    click.echo(f"Paused: {str(info.paused).lower()}")
    click.echo()
    click.secho("Task Count by State", bold=True)
    echo_table(_STATES, [[cell(info, s) for s in _STATES]])
    click.echo()
    click.secho(f"Daily Stats {info.timestamp.astimezone(UTC):%Y-%m-%d} UTC", bold=True)
    echo_table(
        ["processed", "failed", "error rate"],
        [
            [
                cell(info, "processed"),
                cell(info, "failed"),
                error_rate(info.processed, info.failed),
            ]
        ],
    )
    unreadable_note(info, f"queue {info.queue}")


@queue.command("inspect")
@click.argument("queues", nargs=-1, required=True)
@json_option
def queue_inspect(queues: tuple[str, ...], as_json: bool) -> None:
    """Show details of one or more queues."""
    insp, failures, infos = inspector(), Failures(), []
    for qname in queues:
        with failures.item():
            infos.append(insp.get_queue_info(qname))
    if as_json:
        echo_json(infos)
    else:
        for i, info in enumerate(infos):
            if i:
                click.echo(f"\n{_SEPARATOR}\n")
            print_queue_info(info)
    failures.exit()


@queue.command("history")
@click.argument("queues", nargs=-1, required=True)
@click.option("-x", "--days", type=click.IntRange(1, 90), default=10, show_default=True)
@json_option
def queue_history(queues: tuple[str, ...], days: int, as_json: bool) -> None:
    """Show processed/failed counts of the last days (UTC), newest first."""
    insp, failures = inspector(), Failures()
    result: dict[str, Any] = {}
    for qname in queues:
        with failures.item():
            result[qname] = insp.history(qname, days)
    if as_json:
        echo_json(result)
    else:
        for i, (qname, stats) in enumerate(result.items()):
            if i:
                click.echo(f"\n{_SEPARATOR}\n")
            click.echo(f"Queue: {qname}\n")
            echo_table(
                ["date (UTC)", "processed", "failed", "error rate"],
                [
                    [
                        f"{s.date:%Y-%m-%d}",
                        cell(s, "processed"),
                        cell(s, "failed"),
                        error_rate(s.processed, s.failed),
                    ]
                    for s in stats
                ],
            )
    failures.exit()


@queue.command("pause")
@click.argument("queues", nargs=-1, required=True)
def queue_pause(queues: tuple[str, ...]) -> None:
    """Pause one or more queues: servers stop taking their tasks."""
    insp, failures = inspector(), Failures()
    for qname in queues:
        with failures.item():
            insp.pause_queue(qname)
            click.echo(f'Successfully paused queue "{qname}"')
    failures.exit()


@queue.command("resume")
@click.argument("queues", nargs=-1, required=True)
def queue_resume(queues: tuple[str, ...]) -> None:
    """Resume (unpause) one or more queues."""
    insp, failures = inspector(), Failures()
    for qname in queues:
        with failures.item():
            insp.unpause_queue(qname)
            click.echo(f'Successfully unpaused queue "{qname}"')
    failures.exit()


@queue.command("remove")
@click.argument("queues", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Remove the queue even if it holds tasks.")
def queue_remove(queues: tuple[str, ...], force: bool) -> None:
    """Remove one or more queues (refused for a non-empty queue unless --force)."""
    insp, failures = inspector(), Failures()
    with Progress("Removing queues", total=len(queues)) as progress:
        for qname in queues:
            with failures.item():
                try:
                    insp.delete_queue(qname, force=force)
                except QueueNotEmptyError as exc:
                    failures.report(
                        f"{exc}\nIf you are sure you want to delete it, "
                        f"run 'asynq queue rm --force {qname}'"
                    )
                else:
                    click.echo(f'Successfully removed queue "{qname}"')
            progress.advance()
    failures.exit()


queue.alias("ls", "list")
queue.alias("resume", "unpause")
queue.alias("remove", "rm", "delete")
