"""The JSON API under ``/api`` (Asynqmon's routes and shapes), used by the pages' forms.

Reads are GET. Every mutation goes through :meth:`Api.mutation`, which checks the CSRF token
first. A mutation posted by an HTML form (``application/x-www-form-urlencoded``) answers with a
redirect to its ``next`` field and a one-time flash message; any other client gets JSON.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute

from asynq._dashboard import format as fmt
from asynq._dashboard.data import (
    PAST,
    TASK_ACTIONS,
    AsyncDashboardData,
    action_allowed,
    tasks_done,
)
from asynq.errors import AsynqError, BrokerError
from asynq.inspector import AsyncInspector
from asynq.progress import open_event_stream
from asynq.web._app import Dashboard, EscapedRoute
from asynq.web._csrf import COOKIE, FIELD, HEADER
from asynq.web._wsgi import BUFFERED_KEY

#: States listed by ``/api/queues/{q}/{state}_tasks``.
LIST_STATES = ("active", "pending", "scheduled", "retry", "archived", "completed")
# Keys of the batch responses, as Asynqmon names them.
_BATCH_KEYS = {
    "delete": ("deleted_ids", "failed_ids"),
    "run": ("pending_ids", "error_ids"),
    "archive": ("archived_ids", "error_ids"),
    "cancel": ("canceled_ids", "error_ids"),
}
# Key of the ``<verb>_all`` responses, as Asynqmon names them ("scheduled" even for run_all).
_ALL_KEYS = {"delete": "deleted", "run": "scheduled", "archive": "archived"}
_MAX_BODY = 1_000_000


@dataclass
class Submitted:
    """What a mutation request carried: task ids, flags, and how to answer."""

    task_ids: list[str] = field(default_factory=list)
    force: bool = False
    next: str | None = None
    is_form: bool = False


@dataclass
class Outcome:
    """A mutation's result: JSON body (``None``: 204) and a one-line message for the flash."""

    message: str
    body: dict[str, Any] | None = None
    failed: bool = False


Handler = Callable[[Request, Submitted], Awaitable[Outcome]]


def _page(request: Request, default_size: int) -> tuple[int, int]:
    try:
        page = max(int(request.query_params.get("page", 1)), 1)
        size = min(max(int(request.query_params.get("size", default_size)), 1), 1000)
    except ValueError:
        raise HTTPException(400, "page and size must be integers") from None
    return page, size


#: How long a browser waits before asking for a task's progress again when the host cannot
#: stream (``retry`` of Server-Sent Events, in milliseconds).
PROGRESS_RETRY_MS = 2000


async def _current_state_only(events: AsyncGenerator[str, None]) -> AsyncGenerator[str, None]:
    """The first event of a progress stream, then the end of the response.

    Behind a host that buffers whole responses (the WSGI form) a stream would hold a worker
    until the task ends, and show nothing meanwhile: every viewer of a long task's page could
    pin one. One event and ``retry`` turn the browser's ``EventSource`` into polling instead.
    """
    try:
        yield f"retry: {PROGRESS_RETRY_MS}\n\n"
        yield await anext(events)
    finally:
        await events.aclose()


class Api:
    """Endpoints bound to one :class:`~asynq.web._app.Dashboard`."""

    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    @property
    def insp(self) -> AsyncInspector:
        """The dashboard's inspector."""
        return self.dash.inspector

    @property
    def data(self) -> AsyncDashboardData:
        """The dashboard's reads and actions, over its inspector."""
        return AsyncDashboardData(self.dash.inspector)

    def routes(self) -> list[BaseRoute]:
        """Every ``/api`` route; mutations are all wrapped by :meth:`mutation`."""
        m = self.mutation
        tasks = "/api/queues/{qname}/{state}_tasks"
        agg = "/api/queues/{qname}/groups/{group}/aggregating_tasks"
        return [
            EscapedRoute("/api/csrf", self.csrf_token, methods=["GET"]),
            EscapedRoute("/api/queues", self.queues, methods=["GET"]),
            EscapedRoute("/api/queue_stats", self.queue_stats, methods=["GET"]),
            EscapedRoute("/api/queues/{qname}", self.queue, methods=["GET"]),
            EscapedRoute("/api/queues/{qname}", m(self.delete_queue), methods=["DELETE"]),
            EscapedRoute("/api/queues/{qname}:delete", m(self.delete_queue), methods=["POST"]),
            EscapedRoute("/api/queues/{qname}:pause", m(self.pause_queue), methods=["POST"]),
            EscapedRoute("/api/queues/{qname}:resume", m(self.resume_queue), methods=["POST"]),
            EscapedRoute("/api/queues/{qname}/groups", self.groups, methods=["GET"]),
            EscapedRoute("/api/queues/{qname}/tasks/{task_id}", self.task, methods=["GET"]),
            EscapedRoute(
                "/api/queues/{qname}/tasks/{task_id}/progress", self.progress, methods=["GET"]
            ),
            EscapedRoute(tasks, self.tasks, methods=["GET"]),
            EscapedRoute(tasks + "/{task_id}", m(self.task_action), methods=["DELETE"]),
            EscapedRoute(tasks + "/{task_id}:{action}", m(self.task_action), methods=["POST"]),
            EscapedRoute(tasks + ":{action}", m(self.bulk_action), methods=["POST", "DELETE"]),
            EscapedRoute(agg, self.tasks, methods=["GET"]),
            EscapedRoute(agg + "/{task_id}", m(self.task_action), methods=["DELETE"]),
            EscapedRoute(agg + "/{task_id}:{action}", m(self.task_action), methods=["POST"]),
            EscapedRoute(agg + ":{action}", m(self.bulk_action), methods=["POST", "DELETE"]),
            EscapedRoute("/api/servers", self.servers, methods=["GET"]),
            EscapedRoute("/api/scheduler_entries", self.scheduler_entries, methods=["GET"]),
            EscapedRoute(
                "/api/scheduler_entries/{entry_id}/enqueue_events",
                self.enqueue_events,
                methods=["GET"],
            ),
            EscapedRoute("/api/redis_info", self.redis_info, methods=["GET"]),
        ]

    # --- reads ---------------------------------------------------------------------------

    async def csrf_token(self, request: Request) -> Response:
        """``{"token": ...}`` for API clients; sets the cookie the token belongs to."""
        cookie = request.cookies.get(COOKIE)
        new_cookie = None
        if not cookie or len(cookie) > 64:
            cookie = new_cookie = self.dash.csrf.new_cookie()
        resp = JSONResponse({"token": self.dash.csrf.token(cookie)})
        if new_cookie:
            self.dash.set_cookie(request, resp, COOKIE, new_cookie)
        return resp

    async def queues(self, request: Request) -> Response:
        """``{"queues": [snapshot, ...]}`` sorted by name."""
        names = sorted(await self.insp.queues())
        infos = await asyncio.gather(*(self.insp.get_queue_info(q) for q in names))
        return JSONResponse({"queues": [fmt.queue_json(i) for i in infos]})

    async def queue_stats(self, request: Request) -> Response:
        """``{"stats": {queue: [daily, ...]}}`` for the last ``days`` (default 90)."""
        try:
            days = min(max(int(request.query_params.get("days", 90)), 1), 90)
        except ValueError:
            raise HTTPException(400, "days must be an integer") from None
        names = sorted(await self.insp.queues())
        hist = await asyncio.gather(*(self.insp.history(q, days) for q in names))
        return JSONResponse(
            {"stats": {q: [fmt.daily_json(d) for d in h] for q, h in zip(names, hist, strict=True)}}
        )

    async def queue(self, request: Request) -> Response:
        """``{"current": snapshot, "history": [last 10 days]}``."""
        qname = request.path_params["qname"]
        info = await self.insp.get_queue_info(qname)
        hist = await self.insp.history(qname, 10)
        return JSONResponse(
            {"current": fmt.queue_json(info), "history": [fmt.daily_json(d) for d in hist]}
        )

    async def groups(self, request: Request) -> Response:
        """``{"stats": snapshot, "groups": [{"group", "size"}]}``."""
        qname = request.path_params["qname"]
        groups = await self.insp.groups(qname)
        info = await self.insp.get_queue_info(qname)
        return JSONResponse(
            {"stats": fmt.queue_json(info), "groups": [fmt.group_json(g) for g in groups]}
        )

    async def tasks(self, request: Request) -> Response:
        """``{"tasks": [...], "stats": snapshot}`` for one page of one state (plus ``groups``)."""
        qname = request.path_params["qname"]
        state = request.path_params.get("state", "aggregating")
        if state not in LIST_STATES and state != "aggregating":
            raise HTTPException(404, f"unknown task state {state!r}")
        page, size = _page(request, self.dash.settings.page_size)
        group = request.path_params.get("group", "")
        tasks = await self.data.list_tasks(qname, state, page, size, group)
        workers = await self.data.workers_of(qname) if state == "active" else {}
        info = await self.insp.get_queue_info(qname)
        body: dict[str, Any] = {
            "tasks": [fmt.task_json(t, workers.get(t.id), fmt.LIST_BYTES) for t in tasks],
            "stats": fmt.queue_json(info),
        }
        if state == "aggregating":  # Asynqmon lists the queue's groups next to a group's tasks
            body["groups"] = [fmt.group_json(g) for g in await self.insp.groups(qname)]
        return JSONResponse(body)

    async def task(self, request: Request) -> Response:
        """One task in full."""
        qname, task_id = request.path_params["qname"], request.path_params["task_id"]
        info, worker = await self.data.task(qname, task_id)
        return JSONResponse(fmt.task_json(info, worker))

    async def progress(self, request: Request) -> Response:
        """The task's state and reported progress as Server-Sent Events, until it is over
        (see :mod:`asynq.progress`); 404 for an unknown task."""
        qname, task_id = request.path_params["qname"], request.path_params["task_id"]
        events = await open_event_stream(self.insp, qname, task_id)
        if request.scope.get(BUFFERED_KEY):
            events = _current_state_only(events)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"cache-control": "no-store"}
        )

    async def servers(self, request: Request) -> Response:
        """``{"servers": [...]}``."""
        servers = sorted(await self.insp.servers(), key=lambda s: (s.host, s.pid))
        return JSONResponse({"servers": [fmt.server_json(s) for s in servers]})

    async def scheduler_entries(self, request: Request) -> Response:
        """``{"entries": [...]}``."""
        entries = await self.data.scheduler_entries()
        return JSONResponse({"entries": [fmt.entry_json(e) for e in entries]})

    async def enqueue_events(self, request: Request) -> Response:
        """``{"events": [...]}``, newest first."""
        page, size = _page(request, self.dash.settings.page_size)
        events = await self.insp.list_scheduler_enqueue_events(
            request.path_params["entry_id"], page=page, page_size=size
        )
        return JSONResponse({"events": [fmt.event_json(e) for e in events]})

    async def redis_info(self, request: Request) -> Response:
        """``{"info": {...}, "cluster": bool, "queue_locations": [...]}``."""
        return JSONResponse(await self.data.redis_overview())

    # --- mutations -----------------------------------------------------------------------

    def mutation(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a mutation: CSRF check, input parsing, then JSON or redirect+flash."""

        async def endpoint(request: Request) -> Response:
            submitted, token = await _parse(request)
            if not self.dash.csrf.check(request.cookies.get(COOKIE), token):
                raise HTTPException(403, "CSRF token missing or invalid; reload the page")
            try:
                outcome = await handler(request, submitted)
            except BrokerError:
                raise
            except AsynqError as exc:
                if not submitted.is_form:
                    raise
                outcome = Outcome(str(exc), failed=True)
            if submitted.is_form:
                resp = RedirectResponse(self._next(request, submitted.next), status_code=303)
                level = "error" if outcome.failed else "ok"
                self.dash.set_flash(request, resp, level, outcome.message)
                return resp
            if outcome.body is None:
                return Response(status_code=204)
            return JSONResponse(outcome.body)

        return endpoint

    def _next(self, request: Request, target: str | None) -> str:
        """``target`` if it is a path inside the dashboard, else the dashboard's root.

        Refusing anything else (other hosts, ``//host``, backslashes, control characters that
        browsers strip) keeps the redirect from being an open redirect.
        """
        root = self.dash.root(request)
        if (
            target
            and target.startswith(root + "/")
            and not target.startswith("//")
            and "\\" not in target
            and all(c > " " for c in target)
        ):
            return target
        return root + "/"

    async def delete_queue(self, request: Request, sub: Submitted) -> Outcome:
        """Delete a queue (``force`` to delete a non-empty one)."""
        qname = request.path_params["qname"]
        force = sub.force or request.query_params.get("force", "") in ("1", "true")
        await self.insp.delete_queue(qname, force=force)
        return Outcome(f"Queue {qname!r} deleted")

    async def pause_queue(self, request: Request, sub: Submitted) -> Outcome:
        """Pause a queue."""
        qname = request.path_params["qname"]
        await self.insp.pause_queue(qname)
        return Outcome(f"Queue {qname!r} paused")

    async def resume_queue(self, request: Request, sub: Submitted) -> Outcome:
        """Resume a queue."""
        qname = request.path_params["qname"]
        await self.insp.unpause_queue(qname)
        return Outcome(f"Queue {qname!r} resumed")

    async def task_action(self, request: Request, sub: Submitted) -> Outcome:
        """Run, archive, delete or cancel one task."""
        p = request.path_params
        state = p.get("state", "aggregating")
        action = p.get("action", "delete")
        _allowed(state, action)
        await self.data.act(action, p["qname"], p["task_id"])
        return Outcome(f"Task {p['task_id']} {PAST[action]}")

    async def bulk_action(self, request: Request, sub: Submitted) -> Outcome:
        """``run_all``/``archive_all``/``delete_all``/``cancel_all`` or ``batch_<verb>``."""
        p = request.path_params
        qname, state, action = p["qname"], p.get("state", "aggregating"), p["action"]
        kind, _, verb = action.partition("_")
        if kind == "batch":
            _allowed(state, verb)
            return await self._batch(verb, qname, sub.task_ids)
        verb, _, all_ = action.partition("_")
        if all_ != "all" or (request.method == "DELETE" and verb != "delete"):
            raise HTTPException(404, f"unknown action {action!r}")
        _allowed(state, verb)
        n = await self.data.act_on_all(verb, qname, state, p.get("group", ""))
        if verb == "cancel":
            # Asynqmon answers cancel_all with 204 and no count.
            return Outcome(tasks_done(n, verb, state))
        return Outcome(tasks_done(n, verb, state), {_ALL_KEYS[verb]: int(n)})

    async def _batch(self, verb: str, qname: str, task_ids: list[str]) -> Outcome:
        ok_key, bad_key = _BATCH_KEYS[verb]
        outcome = await self.data.act_on(verb, qname, task_ids)
        return Outcome(
            outcome.message,
            {ok_key: outcome.done, bad_key: outcome.failed},
            failed=bool(outcome.failed) and not outcome.done,
        )


def _allowed(state: str, action: str) -> None:
    if state not in TASK_ACTIONS:
        raise HTTPException(404, f"unknown task state {state!r}")
    if not action_allowed(state, action):
        raise HTTPException(400, f"cannot {action} {state} tasks")


async def _parse(request: Request) -> tuple[Submitted, str | None]:
    """Read task ids, flags and the CSRF token from a form, a JSON body or the headers."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    token = request.headers.get(HEADER)
    if int(request.headers.get("content-length", "0") or 0) > _MAX_BODY:
        raise HTTPException(413, "request body too large")
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        ids = [str(v) for v in form.getlist("task_id")]
        field_token = form.get(FIELD)
        nxt = form.get("next")
        return (
            Submitted(
                task_ids=ids,
                force=form.get("force") in ("1", "true", "on"),
                next=str(nxt) if nxt is not None else None,
                is_form=True,
            ),
            token or (str(field_token) if field_token is not None else None),
        )
    body = await request.body()
    if not body:
        return Submitted(), token
    try:
        data = json.loads(body)
    except ValueError:
        raise HTTPException(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, 'the body must be a JSON object like {"task_ids": [...]}')
    ids = data.get("task_ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise HTTPException(400, "task_ids must be a list of strings")
    return Submitted(task_ids=ids, force=bool(data.get("force", False))), token
