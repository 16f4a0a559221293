"""asynq in Django's admin: an "Asynq" section whose pages are the admin's own.

The section's entry (the unmanaged ``Dashboard`` model) opens the queues; from there the
queue's tasks per state, a task, servers, schedulers and Redis, all in the admin's templates
(see :mod:`asynq_django.admin_pages`). Staff users look with ``asynq_django.view_dashboard``
and act with ``asynq_django.manage_tasks``; every page goes through ``admin_site.admin_view``
(login, staff, CSRF, no caching) and every action is recorded as a ``LogEntry``. asynq's whole
web dashboard stays reachable under ``page/`` (it needs the ``web`` extra).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, re_path

from asynq_django import admin_pages, views
from asynq_django.admin_pages import views as pages
from asynq_django.admin_pages.access import require
from asynq_django.dashboard import MANAGE_PERMISSION, VIEW_PERMISSION
from asynq_django.models import Dashboard


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No rows to list: the changelist is the queues overview."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VIEW_PERMISSION) or request.user.has_perm(MANAGE_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Every queue with its figures (the admin's own page)."""
        return pages.overview(request, self)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The queue a history entry names (the admin's "Recent actions" link here)."""
        require(request)
        return HttpResponseRedirect(pages.link(self, "queue", queue=unquote(object_id)))

    def get_urls(self) -> list[URLPattern]:
        page = self.admin_site.admin_view(views.dashboard)  # csrf_exempt is kept: it checks
        return [
            *admin_pages.urls(self),
            re_path(r"^page/(?P<subpath>.*)$", page, name="asynq_django_dashboard_page"),
            *super().get_urls(),
        ]
