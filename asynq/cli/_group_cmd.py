"""``asynq group``: list the groups of a queue that hold aggregating tasks."""

from __future__ import annotations

import click

from asynq.cli._base import group, json_option
from asynq.cli._render import echo_json, echo_table
from asynq.cli._state import inspector


@group("group", help="Manage groups.")
def group_cmd() -> None:
    """Manage groups."""


@group_cmd.command("ls")
@click.option("-q", "--queue", "qname", required=True, help="Queue to inspect.")
@json_option
def group_ls(qname: str, as_json: bool) -> None:
    """List groups of aggregating tasks in a queue, with their sizes."""
    groups = sorted(inspector().groups(qname), key=lambda g: g.group)
    if as_json:
        echo_json(groups)
    elif not groups:
        click.echo(f'No groups found in queue "{qname}"')
    else:
        echo_table(["Group", "Size"], [[g.group, g.size] for g in groups])


group_cmd.alias("ls", "list")
