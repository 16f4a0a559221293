"""asynq's pages in Django's admin: what viewers see, how managers act, what the admin records."""

from __future__ import annotations

import json
import os
import re
import sys
from html import escape, unescape

import pytest
import redis
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings

import asynq
from asynq import Inspector
from tests.web._seed import Seeded, seed_everything
from tests_django.shop import tasks

pytestmark = pytest.mark.django_db

ADMIN = "/admin/asynq_django/dashboard/"
#: asynq's whole web dashboard, still served by the admin beside its own pages.
ADMIN_PAGE = ADMIN + "page/"
ACT = ADMIN + "act/"
PAUSE = ADMIN + "pause/"


def staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def client_for(user: User | None, **options: bool) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def seeded(r: redis.Redis) -> Seeded:
    return seed_everything(r, os.environ["ASYNQ_REDIS_URL"])


def html_of(client: Client, url: str, **query: str) -> str:
    response = client.get(url, query)
    assert response.status_code == 200, (url, query, response.status_code)
    return response.content.decode()


def confirmed_delete(task_id: str) -> dict[str, str]:
    """The fields of a confirmed "delete" of one pending task of ``default``."""
    return {"queue": "default", "state": "pending", "action": "delete",
            "_selected_action": task_id, "post": "yes"}  # fmt: skip


CONFIRMED_PAUSE = {"queue": "default", "action": "pause", "post": "yes"}


def task_exists(r: redis.Redis, task_id: str, queue: str = "default") -> bool:
    return bool(r.exists(f"asynq:{{{queue}}}:t:{task_id}"))


def state_of(r: redis.Redis, task_id: str, queue: str = "default") -> str:
    return Inspector(r).get_task_info(queue, task_id).state.value


# --- who may look ------------------------------------------------------------------------


def test_the_admin_index_links_the_pages_for_viewers_only() -> None:
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert f'href="{ADMIN}"' in html_of(viewer, "/admin/")
    nobody = client_for(staff("plain"))
    assert "asynq_django/dashboard" not in nobody.get("/admin/").content.decode()
    assert nobody.get(ADMIN).status_code == 403


def test_anonymous_users_are_sent_to_the_login_page(r: redis.Redis) -> None:
    ids = seeded(r).ids
    anonymous = Client()
    for url in (ADMIN, ADMIN + "queue/?queue=default", ADMIN + "servers/", ADMIN_PAGE):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    post = anonymous.post(ACT, confirmed_delete(ids["pending"]))
    assert post.status_code == 302 and post["Location"].startswith("/admin/login/")
    assert task_exists(r, ids["pending"])


def test_staff_without_the_permission_are_refused(r: redis.Redis) -> None:
    seeded(r)
    plain = client_for(staff("plain"))
    for page in ("", "queue/?queue=default", "task/?queue=default&id=x", "servers/",
                 "schedulers/", "schedulers/history/?entry=x", "redis/", "page/"):  # fmt: skip
        assert plain.get(ADMIN + page).status_code == 403, page


# --- what viewers see --------------------------------------------------------------------


def test_the_queues_page_is_the_admins_own(r: redis.Redis) -> None:
    seeded(r)
    size = Inspector(r).get_queue_info("default").size
    html = html_of(client_for(staff("viewer", "view_dashboard")), ADMIN)
    assert "<iframe" not in html
    assert 'id="site-name"' in html and 'class="breadcrumbs"' in html  # the admin's chrome
    assert 'id="nav-sidebar"' in html  # and its sidebar
    row = re.search(r'<tr data-queue="default">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="numeric">([^<]*)</td>', row)
    # size, then active, pending, aggregating, scheduled, retry, archived, completed,
    # processed and failed today, error rate, latency, memory
    assert cells[:8] == [str(size), "1", "1", "1", "1", "1", "1", "1"]
    assert cells[8:11] == ["10", "3", "30.00%"]
    assert "Open the full dashboard" in html


def test_every_page_renders_for_a_viewer_with_tasks_in_every_state(r: redis.Redis) -> None:
    seed = seeded(r)
    viewer = client_for(staff("viewer", "view_dashboard"))
    for state, task_id in seed.ids.items():
        listing = html_of(viewer, ADMIN + "queue/", queue="default", state=state)
        assert f'data-task-id="{task_id}"' in listing, state
        assert listing.count("data-task-id=") == 1, state
        detail = html_of(viewer, ADMIN + "task/", queue="default", id=task_id)
        assert task_id in detail and f'<label>State:</label><div class="readonly">{state}' in detail
    retry = html_of(viewer, ADMIN + "task/", queue="default", id=seed.ids["retry"])
    assert "boom" in retry and "again" in retry  # last error and payload
    completed = html_of(viewer, ADMIN + "task/", queue="default", id=seed.ids["completed"])
    assert "&quot;ok&quot;: true" in completed  # the result, pretty-printed JSON
    active = html_of(viewer, ADMIN + "queue/", queue="default", state="active")
    assert "<time" in active  # the worker's start and deadline
    servers = html_of(viewer, ADMIN + "servers/")
    assert "worker-1:99" in servers and seed.ids["active"] in servers
    schedulers = html_of(viewer, ADMIN + "schedulers/")
    assert seed.entry_id in schedulers and "@every 1m" in schedulers
    history = html_of(viewer, ADMIN + "schedulers/history/", entry=seed.entry_id)
    assert "event-task-1" in history
    assert "redis_version" in html_of(viewer, ADMIN + "redis/")


def test_payloads_and_results_download_whole(r: redis.Redis) -> None:
    payload = b"\xff" + b"x" * (100 * 1024)  # not text, and more than the page shows
    with asynq.Client(os.environ["ASYNQ_REDIS_URL"]) as client:
        task_id = client.enqueue(asynq.Task("big", payload)).id
    viewer = client_for(staff("viewer", "view_dashboard"))
    page = html_of(viewer, ADMIN + "task/", queue="default", id=task_id)
    assert f"Showing the first {64 * 1024} of {len(payload)} bytes" in page
    href = unescape(re.search(r'<a href="([^"]+)" download>Download the whole payload', page)[1])
    got = viewer.get(href)
    assert got.status_code == 200 and got.content == payload
    assert got["Content-Type"] == "application/octet-stream"
    assert got["Content-Disposition"].startswith("attachment;")
    assert viewer.get(href.replace("part=payload", "part=result")).status_code == 404
    assert Client().get(href).status_code == 302  # the admin's login first


def test_viewers_see_no_action_controls(r: redis.Redis) -> None:
    seed = seeded(r)
    viewer = client_for(staff("viewer", "view_dashboard"))
    pages = [html_of(viewer, ADMIN + "queue/", queue="default", state=s) for s in seed.ids]
    pages += [html_of(viewer, ADMIN + "task/", queue="default", id=i) for i in seed.ids.values()]
    for html in pages:
        assert "_selected_action" not in html and 'name="action"' not in html
        assert ACT not in html and PAUSE not in html


def test_unknown_queues_tasks_and_states_are_404(r: redis.Redis) -> None:
    seeded(r)
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert viewer.get(ADMIN + "queue/", {"queue": "nope"}).status_code == 404
    assert viewer.get(ADMIN + "queue/", {"queue": "default", "state": "odd"}).status_code == 404
    assert viewer.get(ADMIN + "task/", {"queue": "default", "id": "nope"}).status_code == 404


def test_task_lists_are_paginated_oldest_first(r: redis.Redis) -> None:
    ids = [tasks.add.enqueue(n, n).id for n in range(25)]
    viewer = client_for(staff("viewer", "view_dashboard"))

    def listed(page: int) -> list[str]:
        html = html_of(viewer, ADMIN + "queue/", queue="default", state="pending",
                       size="10", page=str(page))  # fmt: skip
        return re.findall(r'data-task-id="([^"]+)"', html)

    assert listed(1) == ids[:10]
    assert listed(2) == ids[10:20]
    assert listed(3) == ids[20:]
    first = html_of(viewer, ADMIN + "queue/", queue="default", state="pending", size="10")
    assert '<span class="this-page">1</span>' in first
    assert "page=3" in first and "25 pending tasks" in first


# --- how managers act --------------------------------------------------------------------


def test_viewers_cannot_act(r: redis.Redis) -> None:
    ids = seeded(r).ids
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert viewer.post(ACT, confirmed_delete(ids["pending"])).status_code == 403
    assert viewer.post(PAUSE, CONFIRMED_PAUSE).status_code == 403
    assert task_exists(r, ids["pending"])
    assert not Inspector(r).get_queue_info("default").paused
    assert LogEntry.objects.count() == 0


def test_get_never_acts(r: redis.Redis) -> None:
    ids = seeded(r).ids
    manager = client_for(staff("manager", "manage_tasks"))
    assert manager.get(ACT, confirmed_delete(ids["pending"])).status_code == 405
    assert manager.get(PAUSE, CONFIRMED_PAUSE).status_code == 405
    assert task_exists(r, ids["pending"])
    assert not Inspector(r).get_queue_info("default").paused


def test_every_action_needs_djangos_csrf_token(r: redis.Redis) -> None:
    ids = seeded(r).ids
    manager = client_for(staff("manager", "manage_tasks"), enforce_csrf_checks=True)
    fields = confirmed_delete(ids["pending"])
    assert manager.post(ACT, fields).status_code == 403
    assert task_exists(r, ids["pending"])
    # The page's own token (from its action bar) is accepted.
    html = html_of(manager, ADMIN + "queue/", queue="default", state="pending")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    done = manager.post(ACT, {**fields, "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and not task_exists(r, ids["pending"])


def test_an_action_asks_first_and_acts_on_the_confirmation(r: redis.Redis) -> None:
    ids = seeded(r).ids
    manager_user = staff("manager", "manage_tasks")
    manager = client_for(manager_user)
    fields = {"queue": "default", "state": "retry", "action": "archive",
              "_selected_action": ids["retry"]}  # fmt: skip
    first = manager.post(ACT, fields)
    assert first.status_code == 200
    html = first.content.decode()
    assert "Are you sure you want to archive the selected retry tasks?" in html
    assert ids["retry"] in html and '<input type="hidden" name="post" value="yes">' in html
    assert state_of(r, ids["retry"]) == "retry"  # nothing done yet
    assert LogEntry.objects.count() == 0

    second = manager.post(ACT, {**fields, "post": "yes"}, follow=True)
    assert second.redirect_chain[0][0].startswith(ADMIN + "queue/?queue=default&state=retry")
    assert "1 task archived" in second.content.decode()
    assert state_of(r, ids["retry"]) == "archived"
    entry = LogEntry.objects.get()
    assert entry.user_id == manager_user.pk and entry.object_id == "default"
    assert entry.change_message == (
        f"Archive retry tasks {ids['retry']} in queue default: 1 task archived"
    )


def test_a_bulk_action_reaches_the_selected_tasks_only(r: redis.Redis) -> None:
    with asynq.Client(os.environ["ASYNQ_REDIS_URL"]) as client:
        ids = [client.enqueue_in(asynq.Task("report", b"{}"), 3600).id for _ in range(3)]
    manager = client_for(staff("manager", "manage_tasks"))
    fields = {"queue": "default", "state": "scheduled", "action": "run",
              "_selected_action": ids[:2]}  # fmt: skip
    confirm = manager.post(ACT, fields).content.decode()
    assert ids[0] in confirm and ids[1] in confirm and ids[2] not in confirm
    done = manager.post(ACT, {**fields, "post": "yes"}, follow=True)
    assert "2 tasks made pending" in done.content.decode()
    assert [state_of(r, i) for i in ids] == ["pending", "pending", "scheduled"]
    assert ids[0] in LogEntry.objects.get().change_message


def test_all_tasks_of_a_state_at_once(r: redis.Redis) -> None:
    ids = [tasks.add.enqueue(n, n).id for n in range(3)]
    manager = client_for(staff("manager", "manage_tasks"))
    fields = {"queue": "default", "state": "pending", "action": "archive", "select_across": "1"}
    confirm = manager.post(ACT, fields).content.decode()
    assert "archive all 3 pending tasks of queue default?" in confirm
    assert all(state_of(r, i) == "pending" for i in ids)
    done = manager.post(ACT, {**fields, "post": "yes"}, follow=True)
    assert "3 pending tasks archived" in done.content.decode()
    assert all(state_of(r, i) == "archived" for i in ids)
    assert "all pending tasks" in LogEntry.objects.get().change_message


def test_a_task_page_offers_the_actions_of_its_state(r: redis.Redis) -> None:
    ids = seeded(r).ids
    manager = client_for(staff("manager", "manage_tasks"))
    html = html_of(manager, ADMIN + "task/", queue="default", id=ids["retry"])
    form = re.search(r'<form method="post" action="([^"]+)" id="asynq-task-actions">(.*?)</form>',
                     html, re.S)  # fmt: skip
    assert form is not None and form.group(1) == ACT
    assert f'name="_selected_action" value="{ids["retry"]}"' in form.group(2)
    assert re.findall(r'name="action" value="(\w+)"', form.group(2)) == ["run", "archive", "delete"]
    # The button's POST asks first, like the action bar's.
    fields = {
        "queue": "default",
        "state": "retry",
        "action": "run",
        "_selected_action": ids["retry"],
    }
    assert "Are you sure" in manager.post(ACT, fields).content.decode()
    manager.post(ACT, {**fields, "post": "yes"})
    assert state_of(r, ids["retry"]) == "pending"


def test_all_tasks_of_a_group_at_once(r: redis.Redis) -> None:
    with asynq.Client(os.environ["ASYNQ_REDIS_URL"]) as client:
        grouped = [client.add_to_group(asynq.Task("g", b"x"), "digest").id for _ in range(2)]
        other = client.add_to_group(asynq.Task("g", b"y"), "other").id
    manager = client_for(staff("manager", "manage_tasks"))
    listing = html_of(
        manager, ADMIN + "queue/", queue="default", state="aggregating", group="digest"
    )
    assert all(f'data-task-id="{i}"' in listing for i in grouped) and other not in listing
    fields = {"queue": "default", "state": "aggregating", "group": "digest", "action": "run",
              "select_across": "1"}  # fmt: skip
    confirm = manager.post(ACT, fields).content.decode()
    assert "run all 2 aggregating tasks of queue default, group digest?" in confirm
    manager.post(ACT, {**fields, "post": "yes"})
    assert [state_of(r, i) for i in (*grouped, other)] == ["pending", "pending", "aggregating"]


def test_a_running_task_is_canceled(r: redis.Redis) -> None:
    ids = seeded(r).ids
    manager = client_for(staff("manager", "manage_tasks"))
    subscriber = r.pubsub()
    subscriber.subscribe("asynq:cancel")
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    fields = {"queue": "default", "state": "active", "action": "cancel",
              "_selected_action": ids["active"], "post": "yes"}  # fmt: skip
    assert manager.post(ACT, fields).status_code == 302
    message = subscriber.get_message(timeout=5)
    subscriber.close()
    assert message is not None and message["data"] == ids["active"].encode()


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("active", "cancel", "active"),  # a cancel asks the worker; the task stays active
        ("pending", "archive", "archived"),
        ("scheduled", "run", "pending"),
        ("scheduled", "archive", "archived"),
        ("scheduled", "delete", None),
        ("retry", "run", "pending"),
        ("retry", "delete", None),
        ("aggregating", "run", "pending"),
        ("aggregating", "archive", "archived"),
        ("aggregating", "delete", None),
        ("archived", "run", "pending"),
        ("archived", "delete", None),
        ("completed", "delete", None),
    ],
)
def test_every_action_a_state_allows_acts_and_is_logged(
    r: redis.Redis, state: str, action: str, after: str | None
) -> None:
    task_id = seeded(r).ids[state]
    manager_user = staff("manager", "manage_tasks")
    fields = {"queue": "default", "state": state, "action": action,
              "_selected_action": task_id, "post": "yes"}  # fmt: skip
    assert client_for(manager_user).post(ACT, fields).status_code == 302
    if after is None:
        assert not task_exists(r, task_id)
    else:
        assert state_of(r, task_id) == after
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.object_id) == (manager_user.pk, "default")
    assert entry.change_message.startswith(
        f"{action.capitalize()} {state} tasks {task_id} in queue default: 1 task "
    ), entry.change_message


def test_a_state_refuses_the_actions_it_does_not_allow(r: redis.Redis) -> None:
    ids = seeded(r).ids
    manager = client_for(staff("manager", "manage_tasks"))
    fields = {"queue": "default", "state": "pending", "action": "run",
              "_selected_action": ids["pending"], "post": "yes"}  # fmt: skip
    assert manager.post(ACT, fields).status_code == 400
    nothing = manager.post(ACT, {**fields, "action": "delete", "_selected_action": []}, follow=True)
    assert "Tasks must be selected" in nothing.content.decode()
    assert task_exists(r, ids["pending"])


def test_pause_and_unpause_a_queue(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    manager = client_for(staff("manager", "manage_tasks"))
    page = html_of(manager, ADMIN + "queue/", queue="default", state="pending")
    assert 'value="pause"' in page
    confirm = manager.post(PAUSE, {"queue": "default", "action": "pause"}).content.decode()
    assert "Are you sure you want to pause queue default?" in confirm
    assert not Inspector(r).get_queue_info("default").paused
    manager.post(PAUSE, {"queue": "default", "action": "pause", "post": "yes"})
    assert Inspector(r).get_queue_info("default").paused
    assert 'value="unpause"' in html_of(manager, ADMIN + "queue/", queue="default")
    done = manager.post(
        PAUSE, {"queue": "default", "action": "unpause", "post": "yes"}, follow=True
    )
    assert "Queue default unpaused" in done.content.decode()
    assert not Inspector(r).get_queue_info("default").paused
    assert [e.change_message for e in LogEntry.objects.order_by("id")] == [
        "Queue default paused",
        "Queue default unpaused",
    ]


def test_the_admins_recent_actions_lead_to_the_queue(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    manager = client_for(staff("manager", "manage_tasks"))
    manager.post(PAUSE, CONFIRMED_PAUSE)
    index = html_of(manager, "/admin/")
    recent = re.search(r'<a href="([^"]+)">default</a>', index)
    assert recent is not None, "the pause is not among the recent actions"
    response = manager.get(recent.group(1), follow=True)
    assert response.redirect_chain[-1][0] == ADMIN + "queue/?queue=default"
    assert response.status_code == 200 and "Unpause queue" in response.content.decode()


def test_any_queue_name_and_task_id_works(r: redis.Redis) -> None:
    queue, task_id = "a/b?c#d %2F e&state=x", "id/with?odd#chars %2F"
    with asynq.Client(os.environ["ASYNQ_REDIS_URL"]) as client:
        client.enqueue(asynq.Task("odd", b"{}"), queue=queue, task_id=task_id)
    manager = client_for(staff("manager", "manage_tasks"))
    overview = html_of(manager, ADMIN)
    href = re.search(r'<a href="([^"]+)">a/b\?c#d %2F e&amp;state=x</a>', overview).group(1)
    listing = html_of(manager, unescape(href) + "&state=pending")
    assert f'data-task-id="{escape(task_id)}"' in listing
    task_href = re.search(r'<a href="([^"]+)">id/with', listing).group(1)
    assert "id/with?odd#chars %2F" in html_of(manager, unescape(task_href))
    fields = {"queue": queue, "state": "pending", "action": "delete", "_selected_action": task_id}
    manager.post(ACT, {**fields, "post": "yes"})
    assert not Inspector(r).list_pending_tasks(queue)


# --- the rest: the full dashboard and the machine endpoints --------------------------------


def test_the_admin_pages_need_no_web_extra(r: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = seeded(r).ids
    monkeypatch.setitem(sys.modules, "starlette", None)  # as if it were not installed
    viewer = client_for(staff("viewer", "view_dashboard"))
    overview = html_of(viewer, ADMIN)
    assert 'data-queue="default"' in overview
    assert "Open the full dashboard" not in overview  # it would need Starlette
    assert ids["retry"] in html_of(viewer, ADMIN + "queue/", queue="default", state="retry")
    assert "boom" in html_of(viewer, ADMIN + "task/", queue="default", id=ids["retry"])


def test_the_full_dashboard_stays_reachable_and_logs_its_actions(r: redis.Redis) -> None:
    tasks.add.enqueue(1, 2)
    manager_user = staff("manager", "manage_tasks")
    manager = client_for(manager_user)
    html = html_of(manager, ADMIN_PAGE + "queues/default?state=pending")
    assert "tests_django.shop.tasks.add" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    paused = manager.post(ADMIN_PAGE + "api/queues/default:pause", {"csrf_token": token})
    assert paused.status_code < 400 and Inspector(r).get_queue_info("default").paused
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.change_message) == (
        manager_user.pk,
        "POST api/queues/default:pause",
    )


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
    assert 'asynq_tasks_enqueued_total{queue="default",state="pending"} 1' in metrics
    for family in GO_METRIC_FAMILIES:  # every family Go's metrics exporter has, by its name
        assert f"# TYPE {family} " in metrics, family
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert viewer.get("/asynq/stats.json").status_code == 200
    assert "asynq_queue_size" in viewer.get("/asynq/metrics").content.decode()
    no_permission = client_for(staff("clerk"))
    for url in ("/asynq/stats.json", "/asynq/metrics"):
        assert no_permission.get(url).status_code == 403
        assert anonymous.post(url, **bearer).status_code == 405  # read-only endpoints
    with override_settings(ASYNQ={**settings.ASYNQ, "API_TOKEN": ""}):
        for header in ("Bearer ", "Bearer s3cret-token"):  # no token set: no bearer gets in
            auth = {"HTTP_AUTHORIZATION": header}
            assert anonymous.get("/asynq/stats.json", **auth).status_code == 403
            assert anonymous.get("/asynq/metrics", **auth).status_code == 403


#: The metric families of Go asynq's Prometheus exporter (x/metrics), by their names.
GO_METRIC_FAMILIES = (
    "asynq_tasks_enqueued_total",
    "asynq_queue_size",
    "asynq_queue_latency_seconds",
    "asynq_queue_memory_usage_approx_bytes",
    "asynq_tasks_processed_total",
    "asynq_tasks_failed_total",
    "asynq_queue_paused_total",
)


def test_the_standalone_dashboard_needs_staff() -> None:
    assert Client().get("/asynq/dashboard/").status_code == 302
    viewer = client_for(staff("viewer", "view_dashboard"))
    assert viewer.get("/asynq/dashboard/").status_code == 200
