"""A django.tasks task with a ``type`` speaks Go: a Go asynq v0.26.0 client produces it for the
Django worker, and a Go asynq server consumes what the Django backend enqueues."""

from __future__ import annotations

import base64
import json
import os
import time
from urllib.parse import urlsplit

import pytest
import redis

from asynq import Inspector
from asynq_django.testing import run_burst_worker
from tests.helpers import gopeer
from tests_django.shop import tasks
from tests_django.shop.models import Order

# The first Go program of a process builds the Go peer (a few seconds when Go's build cache is
# warm, minutes when cold): more than the usual per-test limit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]


def go_redis() -> list[str]:
    url = urlsplit(os.environ["ASYNQ_REDIS_URL"])
    return ["-redis", f"{url.hostname}:{url.port}", "-db", url.path.strip("/") or "0"]


def test_a_go_client_enqueues_for_the_django_worker(r: redis.Redis) -> None:
    payload = json.dumps({"args": ["gopher@example.com"]}).encode()
    spec = {
        "type": "email:send",
        "payload": base64.b64encode(payload).decode(),
        "options": {"retention": 600},
    }
    [sent] = gopeer.run_go_json("peer_enqueue", *go_redis(), input=[spec])
    assert sent["error"] == "", sent
    run_burst_worker()
    assert Order.objects.get(status="emailed").note == "gopher@example.com"
    result = tasks.send_email.get_result(sent["info"]["id"])
    assert (result.status, result.return_value) == ("SUCCESSFUL", "sent to gopher@example.com")
    assert result.enqueued_at is None  # a Go client sets no django-enqueued-at header


def test_a_go_server_consumes_what_the_django_backend_enqueues(r: redis.Redis) -> None:
    result = tasks.send_email.enqueue("django@example.com")
    server = gopeer.start_go("peer_server", *go_redis(), "-queues", "default=1")
    try:
        deadline = time.monotonic() + 30
        while '"processed"' not in server.read_stdout():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
    finally:
        assert server.stop() == 0, server.output()
    [event] = [
        json.loads(line) for line in server.read_stdout().splitlines() if '"processed"' in line
    ]
    assert (event["id"], event["type"]) == (result.id, "email:send")
    assert json.loads(base64.b64decode(event["payload"])) == {
        "args": ["django@example.com"],
        "kwargs": {},
    }
    assert event["max_retry"] == 0  # @task(max_retry=0) reached Go
    assert Inspector(r).get_queue_info("default").processed == 1
