"""The server-rendered pages (Jinja2, autoescaped) and the Prometheus ``/metrics`` endpoint."""

from __future__ import annotations

import asyncio
from datetime import date

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute

from asynq._dashboard.data import PAGE_SIZES, STATES, TASK_ACTIONS, AsyncDashboardData
from asynq.inspector import AsyncInspector
from asynq.web import _charts as charts
from asynq.web import _metrics as metrics
from asynq.web._app import Dashboard, EscapedRoute, static_path

HISTORY_DAYS = (7, 30, 90)


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(request.query_params.get(name, default)), lo), hi)
    except ValueError:
        return default


class Pages:
    """HTML pages bound to one :class:`~asynq.web._app.Dashboard`."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    @property
    def insp(self) -> AsyncInspector:
        """The dashboard's inspector."""
        return self.dash.inspector

    @property
    def data(self) -> AsyncDashboardData:
        """The dashboard's reads, over its inspector."""
        return AsyncDashboardData(self.dash.inspector)

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
        overview = await self.data.queue_overview()
        infos = overview.infos
        hists = await asyncio.gather(*(self.insp.history(q.queue, days) for q in infos))
        per_day: dict[date, list[int]] = {}
        for hist in hists:
            for d in hist:
                bucket = per_day.setdefault(d.date.date(), [0, 0])
                bucket[0] += d.processed
                bucket[1] += d.failed
        series = [charts.Day(k, v[0], v[1]) for k, v in sorted(per_day.items())]
        return self.dash.render(
            request,
            "index.html",
            nav="queues",
            infos=infos,
            broken=overview.broken,
            totals=overview.totals,
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
        group = request.query_params.get("group", "")
        listing = await self.data.task_page(qname, state, page, size, group)
        hist = await self.insp.history(qname, 10)
        days = [charts.Day(d.date.date(), d.processed, d.failed) for d in reversed(hist)]
        return self.dash.render(
            request,
            "queue.html",
            nav="queues",
            info=listing.info,
            state=state,
            states=STATES,
            tasks=listing.tasks,
            list_error=listing.list_error,
            workers=listing.workers,
            groups=listing.groups,
            group=listing.group,
            page=page,
            size=size,
            page_sizes=PAGE_SIZES,
            pages=listing.pages,
            total=listing.total,
            actions=listing.actions,
            history_chart=charts.history(days, height=140),
        )

    async def task(self, request: Request) -> Response:
        """One task: every field, payload and result as escaped text or a hex dump."""
        qname, task_id = request.path_params["qname"], request.path_params["task_id"]
        info, worker = await self.data.task(qname, task_id)
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
        entries = await self.data.scheduler_entries()
        return self.dash.render(request, "schedulers.html", nav="schedulers", entries=entries)

    async def scheduler_history(self, request: Request) -> Response:
        """Enqueue history of one scheduler entry, newest first."""
        entry_id = request.path_params["entry_id"]
        size = _int(request, "size", self.dash.settings.page_size, 1, 1000)
        page = _int(request, "page", 1, 1, 1_000_000)
        entry, events = await self.data.scheduler_history(entry_id, page, size)
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
        overview = await self.data.redis_overview()
        return self.dash.render(request, "redis.html", nav="redis", **overview)

    async def favicon(self, request: Request) -> Response:
        """The icon, for pages without a ``<link rel=icon>`` (such as ``/metrics``)."""
        return FileResponse(static_path("favicon.svg"), media_type="image/svg+xml")

    async def metrics(self, request: Request) -> Response:
        """Prometheus text exposition with Go's ``x/metrics`` names."""
        overview = await self.data.queue_overview()
        return Response(metrics.render(overview.infos), media_type=metrics.CONTENT_TYPE)
