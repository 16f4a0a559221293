"""The dashboard inside Django's admin: an "Asynq" section whose page is the dashboard.

Staff users see it with ``asynq_django.view_dashboard`` and act with
``asynq_django.manage_tasks``; the views go through ``admin_site.admin_view`` (login, staff,
no caching) and every action is recorded as a ``LogEntry``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, re_path, reverse

from asynq_django import views
from asynq_django.dashboard import MANAGE_PERMISSION, VIEW_PERMISSION
from asynq_django.models import Dashboard


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No rows to list: the changelist is the dashboard."""

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
        return HttpResponseRedirect(reverse("admin:asynq_django_dashboard_page", args=[""]))

    def get_urls(self) -> list[URLPattern]:
        view = views.dashboard
        page = self.admin_site.admin_view(view)  # csrf_exempt is kept: the dashboard checks
        return [
            re_path(r"^page/(?P<subpath>.*)$", page, name="asynq_django_dashboard_page"),
            *super().get_urls(),
        ]
