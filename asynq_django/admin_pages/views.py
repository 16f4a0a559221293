"""The admin's asynq pages (GET): queues, a queue's tasks, a task, servers, schedulers, Redis.

Each takes the data from :class:`~asynq._dashboard.data.DashboardData` and renders a template
of ``admin/asynq_django/``. An unknown queue, task or scheduler entry is a 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin import ModelAdmin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header

from asynq import QueueNotFoundError, TaskInfo, TaskNotFoundError, ValidationError, WorkerInfo
from asynq._dashboard import format as fmt
from asynq._dashboard.data import ACTION_ORDER, PAGE_SIZES, STATES, TASK_ACTIONS
from asynq_django.admin_pages.access import PAGE_SIZE, dashboard_data, render, require, url
from asynq_django.templatetags.asynq_admin import go_duration, when

#: Labels of the actions in menus and on buttons.
ACTION_LABELS = {"run": "Run", "archive": "Archive", "cancel": "Cancel", "delete": "Delete"}


def _int(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(request.GET.get(name, default)), lo), hi)
    except ValueError:
        return default


@contextmanager
def _not_found() -> Iterator[None]:
    """Unknown queues, tasks and blank names answer 404."""
    try:
        yield
    except (QueueNotFoundError, TaskNotFoundError, ValidationError) as exc:
        raise Http404(str(exc)) from exc


def link(admin: ModelAdmin[Any], name: str, **query: Any) -> str:
    """The URL of page ``name`` with ``query`` (empty values left out)."""
    params = {k: v for k, v in query.items() if v not in ("", None)}
    return url(admin, name) + ("?" + urlencode(params) if params else "")


def overview(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """Every queue: state, sizes per task state, today's processed and failed, latency,
    memory; the totals below."""
    require(request)
    data = dashboard_data().queue_overview()
    rows = [
        (
            info,
            link(admin, "queue", queue=info.queue),
            [getattr(info, s) for s in STATES],
            fmt.error_rate(info.processed, info.failed),
        )
        for info in data.infos
    ]
    totals = data.totals
    return render(
        request,
        admin,
        "overview",
        title="Queues",
        section="queues",
        rows=rows,
        broken=sorted(data.broken.items()),
        totals=totals,
        total_counts=[totals[s] for s in STATES],
        total_error_rate=fmt.error_rate(totals["processed"], totals["failed"]),
        states=STATES,
    )


def queue(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """One queue's tasks of one state, a page at a time, with the action bar for managers."""
    require(request)
    name = request.GET.get("queue", "")
    state = request.GET.get("state", "active")
    if state not in STATES:
        raise Http404(f"unknown task state {state!r}")
    size = _int(request, "size", PAGE_SIZE, 1, 1000)
    page = _int(request, "page", 1, 1, 1_000_000)
    with _not_found():
        listing = dashboard_data().task_page(name, state, page, size, request.GET.get("group", ""))
    info, group = listing.info, listing.group

    def here(**changes: Any) -> str:
        query = {"queue": name, "state": state, "group": group, "size": size, **changes}
        return link(admin, "queue", **query)

    paginator = Paginator(range(listing.total), size)
    return render(
        request,
        admin,
        "queue",
        title=f"Queue {name}",
        section="queues",
        crumbs=[("Queues", url(admin, "changelist"))],
        info=info,
        state=state,
        tabs=[
            (s, getattr(info, s), link(admin, "queue", queue=name, state=s), s == state)
            for s in STATES
        ],
        group=group,
        groups=[
            (g, link(admin, "queue", queue=name, state="aggregating", group=g.group))
            for g in listing.groups
        ],
        tasks=[
            (t, listing.workers.get(t.id), link(admin, "task", queue=name, id=t.id))
            for t in listing.tasks
        ],
        list_error=listing.list_error,
        total=listing.total,
        page=page,
        pages=[
            (n, here(page=n) if isinstance(n, int) else "")
            for n in paginator.get_elided_page_range(min(page, paginator.num_pages))
        ],
        page_sizes=[(n, here(size=n, page=1)) for n in PAGE_SIZES],
        size=size,
        actions=[
            (a, f"{ACTION_LABELS[a]} selected tasks") for a in ACTION_ORDER if a in listing.actions
        ],
        act_url=url(admin, "act"),
        pause_url=url(admin, "pause"),
        here=here(page=page),
    )


def task(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """One task: every field Go's ``TaskInfo`` has, payload and result, and its actions."""
    require(request)
    name, task_id = request.GET.get("queue", ""), request.GET.get("id", "")
    with _not_found():
        info, worker = dashboard_data().task(name, task_id)
    state = info.state.value
    return render(
        request,
        admin,
        "task",
        title=f"Task {task_id}",
        section="queues",
        crumbs=[
            ("Queues", url(admin, "changelist")),
            (name, link(admin, "queue", queue=name)),
            (state, link(admin, "queue", queue=name, state=state, group=info.group)),
        ],
        task=info,
        state=state,
        fields=_task_fields(admin, info, worker),
        downloads={
            part: link(admin, "download", queue=name, id=task_id, part=part)
            for part in ("payload", "result")
        },
        actions=[(a, ACTION_LABELS[a]) for a in ACTION_ORDER if a in TASK_ACTIONS[state]],
        act_url=url(admin, "act"),
        queue_url=link(admin, "queue", queue=name, state=state),
    )


def download(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """A task's whole payload or result, as a file (its page shows the first 64 KiB)."""
    require(request)
    name, task_id, part = (request.GET.get(k, "") for k in ("queue", "id", "part"))
    if part not in ("payload", "result"):
        raise Http404(f"a task has no {part!r} to download")
    with _not_found():
        info = dashboard_data().inspector.get_task_info(name, task_id)
    data = info.payload if part == "payload" else info.result
    if data is None:
        raise Http404("the task has no result")
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, f"{task_id}-{part}.bin")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _task_fields(
    admin: ModelAdmin[Any], info: TaskInfo, worker: WorkerInfo | None
) -> list[tuple[str, str, str]]:
    """``(name, label, HTML)`` of every field of the task page, Go's ``TaskInfo`` order; a
    value Redis could not read says so."""
    queue_link = link(admin, "queue", queue=info.queue, state=info.state.value)
    rows = [
        ("id", "ID", format_html('<span class="asynq-mono">{}</span>', info.id)),
        ("msg", "Type", info.type),
        ("queue", "Queue", format_html('<a href="{}">{}</a>', queue_link, info.queue)),
        ("state", "State", info.state.value),
        ("max_retry", "Max retry", str(info.max_retry)),
        ("retried", "Retried", str(info.retried)),
        (
            "last_err",
            "Last error",
            format_html('<pre class="asynq-bytes">{}</pre>', info.last_err)
            if info.last_err
            else "-",
        ),
        ("last_failed_at", "Last failed at", when(info.last_failed_at)),
        ("timeout", "Timeout", go_duration(info.timeout)),
        ("deadline", "Deadline", when(info.deadline)),
        ("next_process_at", "Next process at", when(info.next_process_at)),
        ("completed_at", "Completed at", when(info.completed_at)),
        ("retention", "Retention", go_duration(info.retention)),
        ("group", "Group", info.group or "-"),
    ]
    if info.is_orphaned:
        rows.append(("orphaned", "Orphaned", "yes: no live server holds its lease"))
    if worker is not None:
        rows += [("started", "Started", when(worker.started))]
        rows += [("lease", "Worker deadline", when(worker.deadline))]
    if info.headers:
        headers = format_html_join("", "<div>{}: {}</div>", sorted(info.headers.items()))
        rows.append(("headers", "Headers", headers))
    damaged = "unreadable (damaged data)"
    return [(name, label, damaged if name in info.unreadable else v) for name, label, v in rows]


def servers(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """Live worker servers, each with its active workers."""
    require(request)
    found = sorted(dashboard_data().inspector.servers(), key=lambda s: (s.host, s.pid))
    return render(
        request,
        admin,
        "servers",
        title="Servers",
        section="servers",
        servers=[
            (
                s,
                [(q, p, link(admin, "queue", queue=q)) for q, p in sorted(s.queues.items())],
                [(w, link(admin, "task", queue=w.queue, id=w.task_id)) for w in s.active_workers],
            )
            for s in found
        ],
    )


def schedulers(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """The entries of the live schedulers."""
    require(request)
    entries = dashboard_data().scheduler_entries()
    return render(
        request,
        admin,
        "schedulers",
        title="Scheduler entries",
        section="schedulers",
        entries=[(e, link(admin, "history", entry=e.id)) for e in entries],
    )


def scheduler_history(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """One entry's enqueue events, newest first, a page at a time."""
    require(request)
    entry_id = request.GET.get("entry", "")
    size = _int(request, "size", PAGE_SIZE, 1, 1000)
    page = _int(request, "page", 1, 1, 1_000_000)
    with _not_found():
        entry, events = dashboard_data().scheduler_history(entry_id, page, size)
    return render(
        request,
        admin,
        "scheduler_history",
        title=f"Enqueue history of {entry_id}",
        section="schedulers",
        crumbs=[("Scheduler entries", url(admin, "schedulers"))],
        entry=entry,
        events=events,
        page=page,
        previous_url=link(admin, "history", entry=entry_id, size=size, page=page - 1)
        if page > 1
        else "",
        next_url=link(admin, "history", entry=entry_id, size=size, page=page + 1)
        if len(events) == size
        else "",
    )


def redis(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """Redis INFO, and in a cluster each queue's key slot and nodes."""
    require(request)
    return render(
        request,
        admin,
        "redis",
        title="Redis",
        section="redis",
        **dashboard_data().redis_overview(),
    )
