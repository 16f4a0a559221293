"""Standalone URLs: ``path("asynq/", include("asynq_django.urls"))``.

- ``dashboard/``: the dashboard (staff users with ``view_dashboard``; ``manage_tasks`` to act);
- ``stats.json`` and ``metrics``: for machines, with ``Authorization: Bearer <API_TOKEN>``
  (or a staff session with ``view_dashboard``).
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.urls import path, re_path

from asynq_django import views

app_name = "asynq_django"

dashboard = staff_member_required(views.dashboard)
dashboard.csrf_exempt = True  # type: ignore[attr-defined]

urlpatterns = [
    path("stats.json", views.stats_json, name="stats"),
    path("metrics", views.metrics, name="metrics"),
    re_path(r"^dashboard/(?P<subpath>.*)$", dashboard, name="dashboard"),
]
