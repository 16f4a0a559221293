"""The server-rendered pages (Jinja2, autoescaped) and the Prometheus ``/metrics`` endpoint."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Sequence
from datetime import date
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute

from asynq._snapshots import QueueInfo
from asynq.errors import BrokerError, QueueNotFoundError, is_damaged_data
from asynq.inspector import AsyncInspector
from asynq.web import _charts as charts
from asynq.web import _metrics as metrics
from asynq.web._api import TASK_ACTIONS, list_tasks, redis_overview, workers_of
from asynq.web._app import Dashboard, EscapedRoute, static_path

_T = TypeVar("_T")

#: Tabs of the queue page, in Asynqmon's order.
STATES = ("active", "pending", "aggregating", "scheduled", "retry", "archived", "completed")
PAGE_SIZES = (10, 20, 50, 100)
HISTORY_DAYS = (7, 30, 90)


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(request.query_params.get(name, default)), lo), hi)
    except ValueError:
        return default


async def queue_infos(
    insp: AsyncInspector, names: Sequence[str]
) -> tuple[list[QueueInfo], dict[str, str]]:
    """``QueueInfo`` of each queue, skipping queues deleted meanwhile, and the error of each
    queue Redis could not answer for (damaged data), so one bad queue fails no page."""
    results = await asyncio.gather(*(insp.get_queue_info(q) for q in names), return_exceptions=True)
    infos, broken = [], {}
    for name, r in zip(names, results, strict=True):
        if isinstance(r, QueueNotFoundError):
            continue
        if isinstance(r, BaseException):
            if not is_damaged_data(r):
                raise r
            broken[name] = str(r)
            continue
        infos.append(r)
    return infos, broken


async def _damage_tolerant(read: Awaitable[_T], fallback: _T) -> _T:
    """``await read``, or ``fallback`` when Redis answers for damaged data."""
    try:
        return await read
    except BrokerError as exc:
        if not is_damaged_data(exc):
            raise
        return fallback


class Pages:
    """HTML pages bound to one :class:`~asynq.web._app.Dashboard`."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    @property
    def insp(self) -> AsyncInspector:
        """The dashboard's inspector."""
        return self.dash.inspector

    def routes(self) -> list[BaseRoute]:
        """The page routes (all GET)."""
        return [
            EscapedRoute("/", self.index, methods=["GET"]),
            EscapedRoute("/queues/{qname}", self.queue, methods=["GET"]),
            EscapedRoute("/queues/{qname}/tasks/{task_id}", self.task, methods=["GET"]),
            EscapedRoute(
                "/queues/{qname}/tasks/{task_id}/{part:str}", self.download, methods=["GET"]
            ),
            EscapedRoute("/servers", self.servers, methods=["GET"]),
            EscapedRoute("/schedulers", self.schedulers, methods=["GET"]),
            EscapedRoute("/schedulers/{entry_id}", self.scheduler_history, methods=["GET"]),
            EscapedRoute("/redis", self.redis, methods=["GET"]),
            EscapedRoute("/metrics", self.metrics, methods=["GET"]),
            EscapedRoute("/favicon.ico", self.favicon, methods=["GET"]),
        ]

    async def index(self, request: Request) -> Response:
        """Queues overview: table with actions, queue-size and processed/failed charts."""
        days = _int(request, "days", 7, 1, 90)
        infos, broken = await queue_infos(self.insp, sorted(await self.insp.queues()))
        hists = await asyncio.gather(*(self.insp.history(q.queue, days) for q in infos))
        per_day: dict[date, list[int]] = {}
        for hist in hists:
            for d in hist:
                bucket = per_day.setdefault(d.date.date(), [0, 0])
                bucket[0] += d.processed
                bucket[1] += d.failed
        series = [charts.Day(k, v[0], v[1]) for k, v in sorted(per_day.items())]
        totals = {s: sum(getattr(i, s) for i in infos) for s in (*STATES, "size", "memory_usage")}
        totals["processed"] = sum(i.processed for i in infos)
        totals["failed"] = sum(i.failed for i in infos)
        return self.dash.render(
            request,
            "index.html",
            nav="queues",
            infos=infos,
            broken=broken,
            totals=totals,
            days=days,
            history_days=HISTORY_DAYS,
            size_chart=charts.queue_sizes(infos),
            history_chart=charts.history(series),
        )

    async def queue(self, request: Request) -> Response:
        """One queue: banner, a tab per state, paginated task table with actions."""
        qname = request.path_params["qname"]
        state = request.query_params.get("state", "active")
        if state not in STATES:
            raise HTTPException(404, f"unknown task state {state!r}")
        size = _int(request, "size", self.dash.settings.page_size, 1, 1000)
        page = _int(request, "page", 1, 1, 1_000_000)
        info = await self.insp.get_queue_info(qname)
        hist = await self.insp.history(qname, 10)
        groups = sorted(await _damage_tolerant(self.insp.groups(qname), []), key=lambda g: g.group)
        group = request.query_params.get("group") or (groups[0].group if groups else "")
        tasks: list[Any] = []
        list_error = ""
        if state != "aggregating" or group:
            try:
                tasks = await list_tasks(self.insp, qname, state, group, page, size)
            except BrokerError as exc:
                if not is_damaged_data(exc):
                    raise
                list_error = str(exc)
        workers = await workers_of(self.insp, qname) if state == "active" else {}
        if state == "aggregating":
            total = next((g.size for g in groups if g.group == group), 0)
        else:
            total = getattr(info, state)
        days = [charts.Day(d.date.date(), d.processed, d.failed) for d in reversed(hist)]
        return self.dash.render(
            request,
            "queue.html",
            nav="queues",
            info=info,
            state=state,
            states=STATES,
            tasks=tasks,
            list_error=list_error,
            workers=workers,
            groups=groups,
            group=group,
            page=page,
            size=size,
            page_sizes=PAGE_SIZES,
            pages=max(1, math.ceil(total / size)),
            total=total,
            actions=TASK_ACTIONS[state],
            history_chart=charts.history(days, height=140),
        )

    async def task(self, request: Request) -> Response:
        """One task: every field, payload and result as escaped text or a hex dump."""
        qname, task_id = request.path_params["qname"], request.path_params["task_id"]
        info = await self.insp.get_task_info(qname, task_id)
        worker = (await workers_of(self.insp, qname)).get(task_id)
        return self.dash.render(
            request,
            "task.html",
            nav="queues",
            task=info,
            worker=worker,
            actions=TASK_ACTIONS[info.state.value],
        )

    async def download(self, request: Request) -> Response:
        """The whole payload or result of a task, as a file (the task page shows only a part)."""
        qname, task_id = request.path_params["qname"], request.path_params["task_id"]
        part = request.path_params["part"]
        if part not in ("payload", "result"):
            raise HTTPException(404, f"a task has no {part!r} to download")
        info = await self.insp.get_task_info(qname, task_id)
        data = info.payload if part == "payload" else info.result
        if data is None:
            raise HTTPException(404, "the task has no result")
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in task_id)[:100]
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}-{part}.bin"'},
        )

    async def servers(self, request: Request) -> Response:
        """Live servers and their active workers."""
        servers = sorted(await self.insp.servers(), key=lambda s: (s.host, s.pid))
        return self.dash.render(request, "servers.html", nav="servers", servers=servers)

    async def schedulers(self, request: Request) -> Response:
        """Scheduler entries of live schedulers."""
        entries = sorted(await self.insp.scheduler_entries(), key=lambda e: e.spec)
        return self.dash.render(request, "schedulers.html", nav="schedulers", entries=entries)

    async def scheduler_history(self, request: Request) -> Response:
        """Enqueue history of one scheduler entry, newest first."""
        entry_id = request.path_params["entry_id"]
        size = _int(request, "size", self.dash.settings.page_size, 1, 1000)
        page = _int(request, "page", 1, 1, 1_000_000)
        events = await self.insp.list_scheduler_enqueue_events(entry_id, page=page, page_size=size)
        entry = next((e for e in await self.insp.scheduler_entries() if e.id == entry_id), None)
        return self.dash.render(
            request,
            "scheduler_history.html",
            nav="schedulers",
            entry_id=entry_id,
            entry=entry,
            events=events,
            page=page,
            size=size,
            has_next=len(events) == size,
        )

    async def redis(self, request: Request) -> Response:
        """Redis INFO, and in a cluster each queue's slot and nodes."""
        overview = await redis_overview(self.insp)
        return self.dash.render(request, "redis.html", nav="redis", **overview)

    async def favicon(self, request: Request) -> Response:
        """The icon, for pages without a ``<link rel=icon>`` (such as ``/metrics``)."""
        return FileResponse(static_path("favicon.svg"), media_type="image/svg+xml")

    async def metrics(self, request: Request) -> Response:
        """Prometheus text exposition with Go's ``x/metrics`` names."""
        infos, _broken = await queue_infos(self.insp, sorted(await self.insp.queues()))
        return Response(metrics.render(infos), media_type=metrics.CONTENT_TYPE)
