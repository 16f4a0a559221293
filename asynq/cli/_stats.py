"""``asynq stats``: task counts by state and by queue, today's totals and Redis information."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from asynq._snapshots import QueueInfo
from asynq.cli._base import Failures, json_option
from asynq.cli._render import echo_json, echo_table, error_rate, unreadable_note
from asynq.cli._state import get_state

_STATES = ("active", "pending", "aggregating", "scheduled", "retry", "archived", "completed")


def aggregate(infos: list[QueueInfo]) -> dict[str, Any]:
    """Totals over all queues, shaped like Go's ``AggregateStats`` JSON."""
    totals: dict[str, Any] = {s: sum(getattr(i, s) for i in infos) for s in _STATES}
    totals["processed"] = sum(i.processed for i in infos)
    totals["failed"] = sum(i.failed for i in infos)
    totals["timestamp"] = max((i.timestamp for i in infos), default=datetime.now(UTC))
    return totals


@click.command("stats", short_help="Show queue and task statistics.")
@json_option
def stats(as_json: bool) -> None:
    """Show task counts by state and queue, today's processed/failed and Redis info."""
    state = get_state()
    insp = state.inspector()
    failures, infos = Failures(), []
    for qname in sorted(insp.queues()):
        # One damaged queue is reported on its own; the others are still counted.
        with failures.item(f"queue {qname}"):
            infos.append(insp.get_queue_info(qname))
    agg = aggregate(infos)
    info = insp.redis_info()
    if as_json:
        echo_json({"aggregate": agg, "queues": infos, "redis": info})
        failures.exit()
        return
    click.secho("Task Count by State", bold=True)
    echo_table(_STATES, [[agg[s] for s in _STATES]])
    click.echo()
    click.secho("Task Count by Queue", bold=True)
    if infos:
        titles = [i.queue + (" (paused)" if i.paused else "") for i in infos]
        echo_table(titles, [[i.size for i in infos]])
        for i in infos:
            unreadable_note(i, f"queue {i.queue}")
    else:
        click.echo("No queues")
    click.echo()
    click.secho(f"Daily Stats {agg['timestamp'].astimezone(UTC):%Y-%m-%d} UTC", bold=True)
    echo_table(
        ["processed", "failed", "error rate"],
        [[agg["processed"], agg["failed"], error_rate(agg["processed"], agg["failed"])]],
    )
    click.echo()
    if "cluster_state" in info or state.connection.is_cluster:
        click.secho("Redis Cluster Info", bold=True)
        echo_table(
            ["State", "Known Nodes", "Cluster Size"],
            [
                [
                    info.get("cluster_state", "").upper(),
                    info.get("cluster_known_nodes", ""),
                    info.get("cluster_size", ""),
                ]
            ],
        )
    else:
        click.secho("Redis Info", bold=True)
        echo_table(
            ["version", "uptime", "connections", "memory usage", "peak memory usage"],
            [
                [
                    info.get("redis_version", ""),
                    f"{info.get('uptime_in_days', '?')} days",
                    info.get("connected_clients", ""),
                    f"{info.get('used_memory_human', '?')}B",
                    f"{info.get('used_memory_peak_human', '?')}B",
                ]
            ],
        )
    failures.exit()
