"""The dashboard views, and the machine endpoints: JSON stats and Prometheus metrics.

Mount them standalone with ``path("asynq/", include("asynq_django.urls"))``; the admin also
serves the dashboard under ``/admin/asynq_django/dashboard/page/``, beside its own pages (see
:mod:`asynq_django.admin`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from asynq_django.conf import get_settings
from asynq_django.dashboard import (
    DashboardUser,
    bearer_token_matches,
    forward,
    user_access,
)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def log_action(request: HttpRequest, target: str, message: str) -> None:
    """Record an action of ``request``'s user in the admin's history (``LogEntry``):
    ``target`` (a queue, a dashboard path) and what was done."""
    from asynq_django.models import Dashboard

    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type=ContentType.objects.get_for_model(Dashboard, for_concrete_model=False),
        object_id=target[:200],
        object_repr=target[:200],
        action_flag=CHANGE,
        change_message=message,
    )


@csrf_exempt  # the dashboard checks its own CSRF token on every mutation
@never_cache
def dashboard(request: HttpRequest, subpath: str = "") -> HttpResponse:
    """The dashboard for the logged-in user (staff with the dashboard permissions)."""
    access = user_access(getattr(request, "user", None))
    response = forward(request, subpath, access)
    if request.method not in SAFE_METHODS and response.status_code < 400 and access.can_manage:
        log_action(request, subpath, f"{request.method} {subpath}")
    return response


def _machine_access(request: HttpRequest) -> DashboardUser:
    if bearer_token_matches(request, get_settings()):
        return DashboardUser("api-token", True, False)
    return user_access(getattr(request, "user", None))


@never_cache
def stats_json(request: HttpRequest) -> HttpResponse:
    """Queue statistics as JSON, for staff who may view or ``Authorization: Bearer API_TOKEN``."""
    from asynq_django.management.commands.asynq_stats import as_json, queue_stats

    if request.method != "GET":
        return HttpResponse(status=405)
    if not _machine_access(request).can_view:
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    return HttpResponse(as_json(queue_stats()), content_type="application/json")


@never_cache
def metrics(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Prometheus metrics (Go asynq's metric names), for the same callers as :func:`stats_json`."""
    if request.method != "GET":
        return HttpResponse(status=405)
    access = _machine_access(request)
    if not access.can_view:
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    return forward(request, "metrics", access)
