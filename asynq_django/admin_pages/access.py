"""What every admin page of asynq shares: the access check, the data, the page's context.

The views run behind ``admin_site.admin_view`` (anonymous users go to the admin's login; the
user is active staff); here the asynq permissions decide: ``view_dashboard`` to look,
``manage_tasks`` to act (either one to look). Anyone else gets 403.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import django
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from asynq._dashboard.data import DashboardData
from asynq_django import clients
from asynq_django.dashboard import DashboardUser, user_access

#: The sections of the pages' navigation: (key, label, URL name).
SECTIONS = (
    ("queues", "Queues", "changelist"),
    ("servers", "Servers", "servers"),
    ("schedulers", "Schedulers", "schedulers"),
    ("redis", "Redis", "redis"),
)
#: Tasks per page when the URL names no size (asynq's web dashboard's default too).
PAGE_SIZE = 20


def require(request: HttpRequest, *, manage: bool = False) -> DashboardUser:
    """The user's asynq access; :class:`PermissionDenied` (403) without the permission the
    page needs (``manage``: acting, else looking)."""
    access = user_access(getattr(request, "user", None))
    if not access.can_view or (manage and not access.can_manage):
        raise PermissionDenied
    return access


def dashboard_data() -> DashboardData:
    """The dashboards' reads and actions over ``ASYNQ``'s Redis (the default inspector)."""
    return DashboardData(clients.get_inspector())


def url(admin: ModelAdmin[Any], name: str) -> str:
    """The URL of one of the pages (``changelist``, ``queue``, ``task``...), in ``admin``'s
    site."""
    pattern = "dashboard_changelist" if name == "changelist" else name
    return reverse(f"{admin.admin_site.name}:asynq_django_{pattern}")


def _full_dashboard_available() -> bool:
    # The framed dashboard is asynq's web dashboard: it needs the "web" extra.
    return importlib.util.find_spec("starlette") is not None


def render(
    request: HttpRequest,
    admin: ModelAdmin[Any],
    template: str,
    *,
    title: str,
    section: str,
    crumbs: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> TemplateResponse:
    """``admin/asynq_django/<template>.html`` in the admin's chrome (header, sidebar, theme),
    with breadcrumbs Home > Asynq > Task queue dashboard > ``crumbs`` (label, URL) > title."""
    access = require(request)
    request.current_app = admin.admin_site.name
    opts = admin.model._meta
    context = {
        **admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "crumbs": crumbs or [],
        "section": section,
        "sections": [(key, label, url(admin, name)) for key, label, name in SECTIONS],
        "dashboard_title": str(opts.verbose_name).capitalize(),
        "dashboard_url": url(admin, "changelist"),
        "full_dashboard_url": (
            reverse(f"{admin.admin_site.name}:asynq_django_dashboard_page", args=[""])
            if _full_dashboard_available()
            else ""
        ),
        "can_manage": access.can_manage,
        "django6_markup": django.VERSION >= (6, 0),  # breadcrumbs and fieldsets changed
        **extra,
    }
    return TemplateResponse(request, f"admin/asynq_django/{template}.html", context)
