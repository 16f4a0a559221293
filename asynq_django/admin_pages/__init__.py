"""asynq's pages in the Django admin, in the admin's own templates.

Queues, a queue's tasks per state (a changelist with an action bar), a task, servers and their
workers, scheduler entries and their history, Redis: read through
:class:`asynq._dashboard.data.DashboardData` (what asynq's web dashboard shows, over
``asynq_django``'s default inspector) and rendered by templates extending
``admin/base_site.html``. Actions (run, archive, delete, cancel; pause, unpause) are POSTs
with Django's CSRF token that first answer with a confirmation page and act only when it is
posted back, like the admin's ``delete_selected``.

- :mod:`~asynq_django.admin_pages.access`: who may look and act, the context every page shares;
- :mod:`~asynq_django.admin_pages.views`: the pages;
- :mod:`~asynq_django.admin_pages.actions`: the actions and their confirmation pages;
- :func:`urls`: their URL patterns, for ``DashboardAdmin.get_urls``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import ModelAdmin
from django.urls import URLPattern, path


def urls(admin: ModelAdmin[Any]) -> list[URLPattern]:
    """The pages' URL patterns under ``admin``'s URL, each behind its site's ``admin_view``
    (login, staff, CSRF, no caching) and handed ``admin``. Queue names, task ids and entry ids
    travel in the query string: they may hold any character, ``/`` included."""
    from asynq_django.admin_pages import actions, views

    wrap, given = admin.admin_site.admin_view, {"admin": admin}
    pages = {
        "queue/": ("queue", views.queue),
        "task/": ("task", views.task),
        "task/download/": ("download", views.download),
        "servers/": ("servers", views.servers),
        "schedulers/": ("schedulers", views.schedulers),
        "schedulers/history/": ("history", views.scheduler_history),
        "redis/": ("redis", views.redis),
        "act/": ("act", actions.task_action),
        "pause/": ("pause", actions.queue_action),
    }
    return [
        path(route, wrap(view), given, name=f"asynq_django_{name}")
        for route, (name, view) in pages.items()
    ]
