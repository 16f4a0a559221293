"""The admin's asynq actions: run, archive, delete, cancel tasks; pause and unpause a queue.

Like the admin's own ``delete_selected``: the first POST (the action bar of a queue's task
list, or a button of a task's page) answers with an "Are you sure?" page listing what the
action will touch; its form posts the same fields back with ``post=yes``, and only that second
POST acts. Then a message, a history entry (``LogEntry``: who, what, which queue and tasks)
and a redirect back to the list. GET never acts (405); users without ``manage_tasks`` get 403;
Django's CSRF check guards every POST.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)

from asynq import AsynqError, QueueNotFoundError, TaskInfo, TaskNotFoundError, ValidationError
from asynq._dashboard.data import PAST, STATES, DashboardData, action_allowed, tasks_done
from asynq_django.admin_pages.access import dashboard_data, render, require
from asynq_django.admin_pages.views import ACTION_LABELS, link
from asynq_django.views import log_action

#: The field whose ``yes`` confirms (Django's ``delete_selected`` names it the same).
CONFIRM_FIELD = "post"
#: The task ids ticked in a list (Django's changelist names them the same).
SELECTED_FIELD = "_selected_action"
#: ``1``: every task of the state (or group), not just the ticked ones.
ACROSS_FIELD = "select_across"
#: What pausing and unpausing do, for the confirmation page.
QUEUE_ACTIONS = {
    "pause": "Workers stop taking its tasks until it is unpaused; running tasks finish.",
    "unpause": "Workers take its tasks again.",
}


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRM_FIELD) == "yes"


def task_action(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """Run, archive, delete or cancel the ticked tasks of one state, or all of them."""
    if refused := _post_only(request):
        return refused
    require(request, manage=True)
    form = request.POST
    queue, state, action = form.get("queue", ""), form.get("state", ""), form.get("action", "")
    group = form.get("group", "") if state == "aggregating" else ""
    task_ids = form.getlist(SELECTED_FIELD)
    across = form.get(ACROSS_FIELD) == "1"
    back = link(admin, "queue", queue=queue, state=state, group=group)
    if state not in STATES or not queue:
        return HttpResponseBadRequest(f"unknown queue or task state {state!r}")
    if not action:
        messages.warning(request, "No action selected.")
        return HttpResponseRedirect(back)
    if not action_allowed(state, action):
        return HttpResponseBadRequest(f"cannot {action} {state} tasks")
    if not task_ids and not across:
        messages.warning(
            request, "Tasks must be selected in order to act on them. No tasks have been changed."
        )
        return HttpResponseRedirect(back)
    data = dashboard_data()
    if not _confirmed(request):
        return _confirm_tasks(request, admin, data, back, task_ids if not across else [])
    try:
        if across:
            count = data.act_on_all(action, queue, state, group)
            level, message = messages.SUCCESS, tasks_done(count, action, state)
            what = f"all {state} tasks" + (f" of group {group}" if group else "")
        else:
            outcome = data.act_on(action, queue, task_ids)
            level = messages.SUCCESS
            if outcome.failed:
                level = messages.WARNING if outcome.done else messages.ERROR
            message, what = outcome.message, f"{state} tasks {', '.join(outcome.done) or '-'}"
    except (QueueNotFoundError, ValidationError) as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    log_action(request, queue, f"{ACTION_LABELS[action]} {what} in queue {queue}: {message}")
    messages.add_message(request, level, message)
    return HttpResponseRedirect(back)


def _confirm_tasks(
    request: HttpRequest,
    admin: ModelAdmin[Any],
    data: DashboardData,
    back: str,
    task_ids: list[str],
) -> HttpResponse:
    """The "Are you sure?" page of a task action: the ticked tasks, or how many "all" is."""
    form = request.POST
    queue, state, action = form["queue"], form["state"], form["action"]
    group = form.get("group", "") if state == "aggregating" else ""
    listed: list[tuple[str, TaskInfo | None, str]] = []
    for task_id in task_ids:
        try:
            info: TaskInfo | None = data.inspector.get_task_info(queue, task_id)
        except (TaskNotFoundError, QueueNotFoundError, ValidationError):
            info = None
        listed.append((task_id, info, link(admin, "task", queue=queue, id=task_id)))
    total = 0
    if not task_ids:
        try:
            total = data.task_page(queue, state, 1, 1, group).total
        except AsynqError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
    fields = [(k, v) for k in ("queue", "state", "group", "action") for v in form.getlist(k)]
    fields += [(SELECTED_FIELD, task_id) for task_id in task_ids]
    if not task_ids:
        fields.append((ACROSS_FIELD, "1"))
    label = ACTION_LABELS[action]
    return _confirm(
        request,
        admin,
        queue,
        back,
        heading=f"{label} {state} tasks of queue {queue}" + (f", group {group}" if group else ""),
        question=(
            f"Are you sure you want to {label.lower()} the selected {state} tasks? "
            f"These tasks will be {PAST[action]}:"
            if task_ids
            else f"Are you sure you want to {label.lower()} all {total} {state} tasks"
            f" of queue {queue}" + (f", group {group}" if group else "") + "?"
        ),
        listed=listed,
        fields=fields,
        danger=action == "delete",
    )


def _confirm(
    request: HttpRequest, admin: ModelAdmin[Any], queue: str, back: str, **page: Any
) -> HttpResponse:
    """The "Are you sure?" page: ``heading``, ``question``, ``listed`` tasks, and a form posting
    ``fields`` back to this URL with ``post=yes``; "No" returns to ``back``, ``queue``'s list."""
    return render(
        request,
        admin,
        "confirm",
        title="Are you sure?",
        section="queues",
        crumbs=[(f"Queue {queue}", back)],
        action_url=request.path,
        back=back,
        **page,
    )


def queue_action(request: HttpRequest, admin: ModelAdmin[Any]) -> HttpResponse:
    """Pause or unpause a queue."""
    if refused := _post_only(request):
        return refused
    require(request, manage=True)
    queue, action = request.POST.get("queue", ""), request.POST.get("action", "")
    if not queue or action not in QUEUE_ACTIONS:
        return HttpResponseBadRequest("a queue and an action (pause or unpause) are needed")
    back = link(admin, "queue", queue=queue, state=request.POST.get("state", ""))
    if not _confirmed(request):
        return _confirm(
            request,
            admin,
            queue,
            back,
            heading=f"{action.capitalize()} queue {queue}",
            question=f"Are you sure you want to {action} queue {queue}? {QUEUE_ACTIONS[action]}",
            listed=[],
            fields=[(k, v) for k in ("queue", "action", "state") for v in request.POST.getlist(k)],
            danger=False,
        )
    data = dashboard_data()
    try:
        if action == "pause":
            data.inspector.pause_queue(queue)
        else:
            data.inspector.unpause_queue(queue)
    except ValidationError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    message = f"Queue {queue} {action}d"
    log_action(request, queue, message)
    messages.success(request, message)
    return HttpResponseRedirect(back)
