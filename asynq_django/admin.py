"""The dashboard inside Django's admin: an "Asynq" section whose page frames the dashboard.

Staff users see it with ``asynq_django.view_dashboard`` and act with
``asynq_django.manage_tasks``; the views go through ``admin_site.admin_view`` (login, staff,
no caching) and every action is recorded as a ``LogEntry``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
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
        """The dashboard framed in an admin page (header, breadcrumbs, sidebar, theme)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": self.model._meta.verbose_name.capitalize(),
            "opts": self.model._meta,
            "dashboard_url": reverse("admin:asynq_django_dashboard_page", args=[""]),
            "can_manage": request.user.has_perm(MANAGE_PERMISSION),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "asynq_django/dashboard.html", context)

    def get_urls(self) -> list[URLPattern]:
        view = views.dashboard
        page = self.admin_site.admin_view(view)  # csrf_exempt is kept: the dashboard checks
        return [
            re_path(r"^page/(?P<subpath>.*)$", page, name="asynq_django_dashboard_page"),
            *super().get_urls(),
        ]
