"""`manage.py asynq_worker` as a real subprocess: it drains the queues into the database."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis

from asynq import Client, Inspector, Task
from tests.helpers.unreachable import assert_burst_refused, nowhere
from tests_django.conftest import manage, running, stop, wait_for
from tests_django.shop import tasks
from tests_django.shop.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_burst_worker_runs_django_and_native_tasks_then_exits_0(r: redis.Redis) -> None:
    orders = [Order.objects.create() for _ in range(4)]
    paid = [tasks.mark_paid.enqueue(o.pk) for o in orders[:2]]
    shipped = tasks.ship.enqueue(orders[2].pk)
    summed = tasks.add.enqueue(20, b=22)
    tasks.touch.using(queue="critical").enqueue(orders[3].pk)  # an @asynq.task function
    # A Go service produces a typed task with the JSON payload the backend uses.
    Client(r).enqueue(Task.from_json("email:send", {"args": ["go@example.com"]}))

    done = manage("asynq_worker", "--burst", "-q", "critical=6", "-q", "default", "-c", "2")
    assert done.returncode == 0, done.stderr

    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses == ["emailed", "paid", "paid", "shipped", "touched"]
    assert Order.objects.get(status="emailed").note == "go@example.com"
    assert tasks.add.get_result(summed.id).return_value == {"sum": 42}
    for result in [*paid, shipped]:
        fetched = result.task.get_result(result.id)
        assert fetched.status == "SUCCESSFUL"
        assert fetched.started_at <= fetched.finished_at
        assert len(fetched.worker_ids) == 1
    assert Inspector(r).get_queue_info("default").pending == 0


def test_failures_keep_error_class_and_traceback(r: redis.Redis) -> None:
    result = tasks.explode.enqueue("boom")
    done = manage("asynq_worker", "--burst")
    assert done.returncode == 0, done.stderr
    failed = tasks.explode.get_result(result.id)
    assert failed.status == "FAILED"
    [error] = failed.errors
    assert error.exception_class is ValueError
    assert "ValueError: boom" in error.traceback
    assert failed.attempts == 1


def test_star_processes_every_queue_in_redis(r: redis.Redis) -> None:
    order = Order.objects.create()
    tasks.touch.using(queue="elsewhere").enqueue(order.pk)  # in no configured queue
    done = manage("asynq_worker", "--burst", "-q", "*")
    assert done.returncode == 0, done.stderr
    assert Order.objects.get(pk=order.pk).status == "touched"


def test_a_project_handler_takes_the_types_no_task_declares(r: redis.Redis) -> None:
    order = Order.objects.create()
    Client(r).enqueue(Task.from_json("mux:touch", {"order_id": order.pk}))
    done = manage("asynq_worker", "--burst", "--handler", "tests_django.shop.tasks.mux")
    assert done.returncode == 0, done.stderr
    assert Order.objects.get(pk=order.pk).status == "mux-touched"


@pytest.mark.parametrize("verbosity", ["1", "0"])
def test_burst_without_redis_is_one_line_command_error(
    verbosity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = nowhere()
    monkeypatch.setenv("ASYNQ_REDIS_URL", url)  # the project's REDIS_URL: nothing listens
    done = manage("asynq_worker", "--burst", "-v", verbosity)
    assert done.returncode == 1, done.stderr
    assert_burst_refused(done.stderr, url)
    assert done.stderr.strip().splitlines()[-1].startswith("CommandError: burst mode cannot")
    if verbosity == "0":  # no INFO lines: the error is all there is
        assert done.stderr.strip().count("\n") == 0, done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-q", "critical=x"], "queue weight must be a whole number"),
        (["-q", "critical=0"], "weight of 'critical' must be an int >= 1"),
        (["-c", "0"], "--concurrency must be at least 1"),
        (["--handler", "nowhere.mux"], "cannot import handler 'nowhere.mux'"),
    ],
)
def test_bad_input_is_one_line_command_error(args: list[str], message: str) -> None:
    done = manage("asynq_worker", "--burst", *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_sigterm_stops_gracefully_and_verbosity_logs(r: redis.Redis) -> None:
    order = Order.objects.create()
    tasks.touch.enqueue(order.pk)
    with running("asynq_worker", "-v", "2") as worker:
        wait_for(lambda: Order.objects.get(pk=order.pk).status == "touched")
        out = stop(worker, signal.SIGTERM)
    assert worker.returncode == 0, out
    assert "Starting graceful shutdown" in out
    assert "asynq worker" in out  # the adapter's own INFO line at -v 2


def test_a_second_signal_requeues_the_running_task_at_once(r: redis.Redis) -> None:
    tasks.sleep.using(task_id="sleepy").enqueue()
    with running("asynq_worker") as worker:
        wait_for(lambda: Inspector(r).get_task_info("default", "sleepy").state == "active")
        out = stop(worker, signal.SIGINT, signal.SIGINT)
    assert worker.returncode == 0, out
    assert "Requeueing the running tasks now" in out
    assert Inspector(r).get_task_info("default", "sleepy").state == "pending"


def test_reload_runs_the_worker_under_djangos_autoreloader(r: redis.Redis) -> None:
    order, second = Order.objects.create(), Order.objects.create()
    tasks.touch.enqueue(order.pk)
    with running("asynq_worker", "--reload", "-v", "2", new_session=True) as worker:
        wait_for(lambda: Order.objects.get(pk=order.pk).status == "touched")
        # A task module changes: the reloader restarts the worker, which serves again.
        wait_for(lambda: bool(Inspector(r).servers()))
        first = {server.id for server in Inspector(r).servers()}

        def restarted() -> bool:
            # Touched on every poll: the reloader ignores a change made before it first
            # recorded the file's time.
            os.utime(tasks.__file__)
            return {s.id for s in Inspector(r).servers()} - first != set()

        wait_for(restarted)
        tasks.touch.enqueue(second.pk)
        wait_for(lambda: Order.objects.get(pk=second.pk).status == "touched")
        os.killpg(worker.pid, signal.SIGINT)  # Ctrl-C reaches the reloader and its child
        out, _ = worker.communicate(timeout=30)
    assert "Watching for file changes" in out
    assert f"{Path(tasks.__file__).resolve()} changed, reloading." in out
    assert out.count("INFO asynq_django: asynq worker ") == 2  # started twice


def test_debug_turns_the_reloader_on_except_in_burst_mode(
    r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNQ_DJANGO_TEST_DEBUG", "1")  # DEBUG = True in the subprocesses
    order = Order.objects.create()
    tasks.touch.enqueue(order.pk)
    burst = manage("asynq_worker", "--burst")
    assert burst.returncode == 0, burst.stderr
    assert "Watching for file changes" not in burst.stderr
    assert Order.objects.get(pk=order.pk).status == "touched"
    with running("asynq_worker", new_session=True) as worker:
        wait_for(lambda: len(Inspector(r).servers()) == 1)
        os.killpg(worker.pid, signal.SIGINT)
        out, _ = worker.communicate(timeout=30)
    assert "Watching for file changes" in out


def test_processes_run_forked_workers_under_a_supervisor(r: redis.Redis) -> None:
    results = [tasks.add.enqueue(n, n) for n in range(6)]
    with running("asynq_worker", "--processes", "2", "-c", "2") as supervisor:
        wait_for(lambda: len(Inspector(r).servers()) == 2)
        pids = {server.pid for server in Inspector(r).servers()}
        wait_for(lambda: Inspector(r).get_queue_info("default").completed == 6)
        out = stop(supervisor, signal.SIGTERM)
    assert supervisor.returncode == 0, out
    assert len(pids) == 2 and supervisor.pid not in pids
    for result in results:
        [worker_id] = tasks.add.get_result(result.id).worker_ids
        assert int(worker_id.rsplit(":", 1)[1]) in pids
    assert Inspector(r).servers() == []


def test_processes_refuse_burst_and_reload() -> None:
    done = manage("asynq_worker", "--processes", "2", "--burst")
    assert done.returncode != 0
    assert "--processes cannot be combined with --burst or --reload" in done.stderr
