"""The dashboard inside Django: who may look, who may act, and what the admin records."""

from __future__ import annotations

import json
import re

import pytest
import redis
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.test import Client

from asynq import Inspector
from tests_django.shop import tasks

pytestmark = pytest.mark.django_db

ADMIN_PAGE = "/admin/asynq_django/dashboard/page/"


def staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def csrf_token(client: Client, page: str) -> str:
    html = client.get(page).content.decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_admin_index_links_the_dashboard_for_viewers_only() -> None:
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert ADMIN_PAGE.rsplit("page/", 1)[0] in viewer.get("/admin/").content.decode()
    nobody = client_for(staff("plain"))
    assert "asynq_django/dashboard" not in nobody.get("/admin/").content.decode()
    changelist = viewer.get("/admin/asynq_django/dashboard/")
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert f'<iframe class="asynq-frame" src="{ADMIN_PAGE}"' in html  # in the admin's chrome
    assert 'id="site-name"' in html and "breadcrumbs" in html
    assert viewer.get(ADMIN_PAGE)["X-Frame-Options"] == "SAMEORIGIN"
    assert nobody.get("/admin/asynq_django/dashboard/").status_code == 403


def test_anonymous_users_are_sent_to_the_login_page() -> None:
    response = Client().get(ADMIN_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_permission_are_refused() -> None:
    assert client_for(staff("plain")).get(ADMIN_PAGE).status_code == 403


def test_viewers_see_queues_but_cannot_act(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    viewer = client_for(staff("viewer", "view_dashboard"))
    page = viewer.get(ADMIN_PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "default" in html and "read-only" in html
    queue_page = viewer.get(ADMIN_PAGE + "queues/default?state=pending").content.decode()
    assert "tests_django.shop.tasks.add" in queue_page
    refused = viewer.post(ADMIN_PAGE + "api/queues/default:pause", {"csrf_token": "x"})
    assert refused.status_code == 403
    assert not Inspector(r).get_queue_info("default").paused
    assert LogEntry.objects.count() == 0


def test_managers_act_with_the_dashboards_csrf_token_and_each_action_is_logged(
    r: redis.Redis,
) -> None:
    result = tasks.add.enqueue(1, 2)
    manager_user = staff("manager", "manage_tasks")
    manager = client_for(manager_user)
    no_token = manager.post(ADMIN_PAGE + "api/queues/default:pause")
    assert no_token.status_code == 403
    token = csrf_token(manager, ADMIN_PAGE + "queues/default?state=pending")
    paused = manager.post(ADMIN_PAGE + "api/queues/default:pause", {"csrf_token": token})
    assert paused.status_code < 400
    assert Inspector(r).get_queue_info("default").paused
    deleted = manager.post(
        ADMIN_PAGE + f"api/queues/default/pending_tasks/{result.id}:delete", {"csrf_token": token}
    )
    assert deleted.status_code < 400
    assert r.exists(f"asynq:{{default}}:t:{result.id}") == 0
    entries = list(LogEntry.objects.order_by("id"))
    assert [(e.user_id, e.change_message) for e in entries] == [
        (manager_user.pk, "POST api/queues/default:pause"),
        (manager_user.pk, f"POST api/queues/default/pending_tasks/{result.id}:delete"),
    ]


def test_stats_and_metrics_take_the_api_token_or_a_viewer(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    anonymous = Client()
    assert anonymous.get("/asynq/stats.json").status_code == 403
    assert anonymous.get("/asynq/metrics").status_code == 403
    wrong = {"HTTP_AUTHORIZATION": "Bearer nope"}
    assert anonymous.get("/asynq/stats.json", **wrong).status_code == 403
    bearer = {"HTTP_AUTHORIZATION": "Bearer s3cret-token"}
    stats = anonymous.get("/asynq/stats.json", **bearer)
    assert json.loads(stats.content)["totals"]["pending"] == 1
    metrics = anonymous.get("/asynq/metrics", **bearer).content.decode()
    assert 'asynq_queue_size{queue="default"} 1' in metrics
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert viewer.get("/asynq/stats.json").status_code == 200


def test_the_standalone_dashboard_needs_staff() -> None:
    assert Client().get("/asynq/dashboard/").status_code == 302
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert viewer.get("/asynq/dashboard/").status_code == 200
