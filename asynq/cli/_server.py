"""``asynq server``: list the worker servers (Go or Python) that are alive."""

from __future__ import annotations

import click

from asynq.cli._base import group, json_option
from asynq.cli._render import echo_json, echo_table, format_ago
from asynq.cli._state import inspector


@group("server", help="Manage servers.")
def server() -> None:
    """Manage servers."""


def format_queues(queues: dict[str, int]) -> str:
    """``critical:6 default:3 low:1``: by priority, highest first, then by name (as Go)."""
    return " ".join(f"{q}:{p}" for q, p in sorted(queues.items(), key=lambda i: (-i[1], i[0])))


@server.command("ls")
@json_option
def server_ls(as_json: bool) -> None:
    """List running servers: host, PID, status, active workers, queues and start time."""
    servers = sorted(inspector().servers(), key=lambda s: (s.host, s.pid))
    if as_json:
        echo_json(servers)
        return
    if not servers:
        click.echo("No running servers")
        return
    echo_table(
        ["Host", "PID", "State", "Active Workers", "Queues", "Started"],
        [
            [
                s.host,
                s.pid,
                s.status,
                f"{len(s.active_workers)}/{s.concurrency}",
                format_queues(s.queues),
                format_ago(s.started),
            ]
            for s in servers
        ],
    )


server.alias("ls", "list")
