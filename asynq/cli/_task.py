"""``asynq task``: list, inspect, run, archive, delete, cancel and enqueue tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click

from asynq._task import Task, TaskInfo
from asynq.cli._base import CliError, Failures, group, json_option
from asynq.cli._params import DURATION, TIME
from asynq.cli._progress import Progress
from asynq.cli._render import (
    INSPECT_BYTES,
    UNREADABLE,
    cell,
    echo_json,
    echo_table,
    format_go_duration,
    format_time,
    format_until,
    show_bytes,
    sprint_bytes,
    unreadable_note,
)
from asynq.cli._state import get_state, inspector
from asynq.client import Client
from asynq.inspector import Inspector

_LIST_STATES = ("active", "pending", "aggregating", "scheduled", "retry", "archived", "completed")


def _state_option(states: tuple[str, ...]) -> Callable[[Any], Any]:
    return click.option(
        "-s",
        "--state",
        required=True,
        type=click.Choice(states, case_sensitive=False),
        help="State of the tasks.",
    )


_queue_option = click.option("-q", "--queue", "qname", required=True, help="Queue name.")
_id_option = click.option("-i", "--id", "task_id", required=True, help="Task id.")
_group_option = click.option(
    "-g", "--group", default=None, help="Group name (required for aggregating tasks)."
)


def _need_group(state: str, grp: str | None) -> str:
    if state == "aggregating" and not grp:
        raise CliError("flag --group is required for aggregating tasks")
    return grp or ""


@group("task", help="Manage tasks.")
def task() -> None:
    """Manage tasks."""


def _list(
    insp: Inspector, qname: str, state: str, grp: str, page: int, size: int
) -> list[TaskInfo]:
    if state == "aggregating":
        return insp.list_aggregating_tasks(qname, grp, page=page, page_size=size)
    lister: Callable[..., list[TaskInfo]] = getattr(insp, f"list_{state}_tasks")
    return lister(qname, page=page, page_size=size)


def _rows(state: str, tasks: list[TaskInfo]) -> tuple[list[str], list[list[Any]]]:
    """Go's columns for each state."""
    base = [
        [t.id, UNREADABLE if "msg" in t.unreadable else t.type, sprint_bytes(t.payload)]
        for t in tasks
    ]
    if state == "scheduled":
        cols = ["ID", "Type", "Payload", "Process In"]
        return cols, [
            [*b, cell(t, "next_process_at", format_until)] for b, t in zip(base, tasks, strict=True)
        ]
    if state == "retry":
        cols = ["ID", "Type", "Payload", "Next Retry", "Last Error", "Last Failed", "Retried"]
        cols.append("Max Retry")
        rows = [
            [
                *b,
                cell(t, "next_process_at", format_until),
                t.last_err,
                cell(t, "last_failed_at", format_time),
                t.retried,
                t.max_retry,
            ]
            for b, t in zip(base, tasks, strict=True)
        ]
        return cols, rows
    if state == "archived":
        cols = ["ID", "Type", "Payload", "Last Failed", "Last Error"]
        rows = [
            [*b, cell(t, "last_failed_at", format_time), t.last_err]
            for b, t in zip(base, tasks, strict=True)
        ]
        return cols, rows
    if state == "completed":
        cols = ["ID", "Type", "Payload", "CompletedAt", "Result"]
        rows = [
            [*b, cell(t, "completed_at", format_time), sprint_bytes(t.result)]
            for b, t in zip(base, tasks, strict=True)
        ]
        return cols, rows
    if state == "aggregating":
        return ["ID", "Type", "Payload", "Group"], [
            [*b, t.group] for b, t in zip(base, tasks, strict=True)
        ]
    return ["ID", "Type", "Payload"], base


@task.command("ls")
@_queue_option
@_state_option(_LIST_STATES)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--size", type=click.IntRange(min=1), default=30, show_default=True)
@_group_option
@json_option
def task_ls(qname: str, state: str, page: int, size: int, group: str | None, as_json: bool) -> None:
    """List tasks of one state in a queue, a page at a time."""
    state = state.lower()
    grp = _need_group(state, group)
    tasks = _list(inspector(), qname, state, grp, page, size)
    if as_json:
        echo_json(tasks)
        return
    if not tasks:
        where = f'group "{grp}"' if state == "aggregating" else f'"{qname}" queue'
        click.echo(f"No {state} tasks in {where}")
        return
    cols, rows = _rows(state, tasks)
    echo_table(cols, rows)
    for t in tasks:
        unreadable_note(t, f"task {t.id}")


def print_task_info(info: TaskInfo, *, full: bool = False) -> None:
    """Print one task: Go's ``asynq task inspect`` fields plus payload, result and options.

    The payload and the result are cut to their first :data:`INSPECT_BYTES` unless ``full``.
    """
    limit = None if full else INSPECT_BYTES
    click.secho("Task Info", bold=True)
    click.echo(f"Queue:   {info.queue}")
    click.echo(f"ID:      {info.id}")
    click.echo(f"Type:    {info.type}")
    click.echo(f"State:   {info.state.value}")
    click.echo(f"Retried: {info.retried}/{info.max_retry}")
    if info.unreadable:
        click.echo(f"Unreadable (damaged data): {', '.join(info.unreadable)}")
    if info.group:
        click.echo(f"Group:   {info.group}")
    click.echo()
    nxt = info.next_process_at
    click.echo(f"Next process time: {'n/a' if nxt is None else format_time(nxt)}")
    if info.timeout:
        click.echo(f"Timeout:           {format_go_duration(info.timeout)}")
    if info.deadline is not None:
        click.echo(f"Deadline:          {format_time(info.deadline)}")
    if info.completed_at is not None:
        click.echo(f"Completed at:      {format_time(info.completed_at)}")
    if info.retention:
        click.echo(f"Retention:         {format_go_duration(info.retention)}")
    for key, value in sorted(info.headers.items()):
        click.echo(f"Header {key}: {value}")
    if info.last_err:
        click.echo()
        click.secho("Last Failure", bold=True)
        click.echo(f"Failed at:     {format_time(info.last_failed_at)}")
        click.echo(f"Error message: {info.last_err}")
    click.echo()
    click.secho("Payload", bold=True)
    click.echo(show_bytes(info.payload, limit))
    if info.result is not None:
        click.echo()
        click.secho("Result", bold=True)
        click.echo(show_bytes(info.result, limit))


@task.command("inspect")
@_queue_option
@_id_option
@click.option(
    "--full",
    is_flag=True,
    help=f"Print the whole payload and result (else their first {INSPECT_BYTES} bytes).",
)
@json_option
def task_inspect(qname: str, task_id: str, full: bool, as_json: bool) -> None:
    """Show everything about one task (--json: the whole payload and result, always)."""
    info = inspector().get_task_info(qname, task_id)
    if as_json:
        echo_json(info)
    else:
        print_task_info(info, full=full)


@task.command("cancel")
@click.argument("task_ids", nargs=-1, required=True)
def task_cancel(task_ids: tuple[str, ...]) -> None:
    """Ask the servers to cancel one or more active tasks (fire and forget)."""
    insp, failures = inspector(), Failures()
    with Progress("Cancelling", total=len(task_ids)) as progress:
        for tid in task_ids:
            with failures.item():
                insp.cancel_processing(tid)
                click.echo(f"Sent cancelation signal for task {tid}")
            progress.advance()
    failures.exit()


@task.command("archive")
@_queue_option
@_id_option
def task_archive(qname: str, task_id: str) -> None:
    """Archive a task."""
    inspector().archive_task(qname, task_id)
    click.echo("task archived")


@task.command("delete")
@_queue_option
@_id_option
def task_delete(qname: str, task_id: str) -> None:
    """Delete a task."""
    inspector().delete_task(qname, task_id)
    click.echo("task deleted")


@task.command("run")
@_queue_option
@_id_option
def task_run(qname: str, task_id: str) -> None:
    """Make a scheduled, retry, archived or aggregating task pending now."""
    inspector().run_task(qname, task_id)
    click.echo("task is now pending")


_GERUNDS = {"archive": "Archiving", "delete": "Deleting", "run": "Running"}


def _bulk(verb: str, state: str, qname: str, grp: str) -> int:
    """Run ``<verb>_all_<state>_tasks`` with a spinner: one Redis script, maybe long."""
    insp = inspector()
    with Progress(f"{_GERUNDS[verb]} {state} tasks in {qname!r}"):
        if state == "aggregating":
            return int(getattr(insp, f"{verb}_all_aggregating_tasks")(qname, grp))
        return int(getattr(insp, f"{verb}_all_{state}_tasks")(qname))


@task.command("archiveall")
@_queue_option
@_state_option(("pending", "aggregating", "scheduled", "retry"))
@_group_option
def task_archiveall(qname: str, state: str, group: str | None) -> None:
    """Archive all tasks of one state."""
    state = state.lower()
    n = _bulk("archive", state, qname, _need_group(state, group))
    click.echo(f"{n} tasks archived")


@task.command("deleteall")
@_queue_option
@_state_option(("pending", "aggregating", "scheduled", "retry", "archived", "completed"))
@_group_option
def task_deleteall(qname: str, state: str, group: str | None) -> None:
    """Delete all tasks of one state."""
    state = state.lower()
    n = _bulk("delete", state, qname, _need_group(state, group))
    click.echo(f"{n} tasks deleted")


@task.command("runall")
@_queue_option
@_state_option(("scheduled", "retry", "archived", "aggregating"))
@_group_option
def task_runall(qname: str, state: str, group: str | None) -> None:
    """Make all tasks of one state pending."""
    state = state.lower()
    n = _bulk("run", state, qname, _need_group(state, group))
    click.echo(f"{n} tasks are now pending")


def _payload(payload: str | None, payload_file: click.File | None) -> bytes | None:
    if payload is not None and payload_file is not None:
        raise CliError("give either --payload or --payload-file, not both")
    if payload_file is not None:
        data: Any = payload_file.read()  # type: ignore[attr-defined]
        return bytes(data)
    return payload.encode() if payload is not None else None


@task.command("enqueue")
@click.option("-t", "--type", "task_type", required=True, help="Task type.")
@click.option("-l", "--payload", default=None, help="Payload (text).")
@click.option(
    "--payload-file", type=click.File("rb"), default=None, help="Read the payload from a file (-)."
)
@click.option("--retry", type=int, default=None, help="Max retries [default: 25].")
@click.option("--queue", "qname", default=None, help="Queue [default: default].")
@click.option("--id", "task_id", default=None, help="Task id [default: a random UUID].")
@click.option("--timeout", type=DURATION, default=None, help="Timeout, e.g. 30s, 1m30s.")
@click.option("--deadline", type=TIME, default=None, help="Deadline (RFC 3339).")
@click.option("--unique", type=DURATION, default=None, help="Uniqueness TTL, e.g. 1h.")
@click.option("--process-at", "--process_at", "process_at", type=TIME, default=None)
@click.option("--process-in", "--process_in", "process_in", type=DURATION, default=None)
@click.option("--retention", type=DURATION, default=None, help="Keep when completed, e.g. 24h.")
@click.option("--group", default=None, help="Group to aggregate the task in.")
@json_option
def task_enqueue(
    task_type: str,
    payload: str | None,
    payload_file: click.File | None,
    retry: int | None,
    qname: str | None,
    task_id: str | None,
    timeout: timedelta | None,
    deadline: datetime | None,
    unique: timedelta | None,
    process_at: datetime | None,
    process_in: timedelta | None,
    retention: timedelta | None,
    group: str | None,
    as_json: bool,
) -> None:
    """Enqueue a task (durations in Go syntax: 30s, 1m30s, 2h; times in RFC 3339)."""
    opts: dict[str, Any] = {
        "max_retry": retry,
        "queue": qname,
        "task_id": task_id,
        "timeout": timeout,
        "deadline": deadline,
        "unique": unique,
        "process_at": process_at,
        "process_in": process_in,
        "retention": retention,
        "group": group,
    }
    opts = {k: v for k, v in opts.items() if v is not None}
    t = Task(task_type, _payload(payload, payload_file))
    with Client(get_state().connection.build()) as client:
        info = client.enqueue(t, **opts)
    if as_json:
        echo_json(info)
    else:
        click.echo(f'Enqueued task {info.id} to queue "{info.queue}" ({info.state.value})')


task.alias("ls", "list")
task.alias("delete", "remove", "rm")
