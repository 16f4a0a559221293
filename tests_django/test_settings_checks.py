"""The ASYNQ setting: read lazily (override_settings works), validated by system checks."""

from __future__ import annotations

import pytest
import redis
from django.core import checks
from django.test import override_settings

from asynq_django.conf import get_settings
from tests_django.conftest import manage


def asynq_messages(tags: tuple[str, ...] = ("asynq",), deploy: bool = False) -> list[str]:
    messages = checks.run_checks(tags=list(tags), include_deployment_checks=deploy)
    return [m.id for m in messages if (m.id or "").startswith("asynq.")]


def test_settings_are_read_when_used_so_override_settings_applies() -> None:
    assert get_settings().queues == {"critical": 6, "default": 3}
    with override_settings(ASYNQ={"QUEUES": ["a", "b"], "CONCURRENCY": 2}):
        assert get_settings().queues == {"a": 1, "b": 1}
        assert get_settings().concurrency == 2
    assert get_settings().queues == {"critical": 6, "default": 3}


def test_the_project_settings_pass_the_checks() -> None:
    assert asynq_messages() == []


@pytest.mark.parametrize(
    ("asynq", "check_id"),
    [
        ("redis://x", "asynq.E001"),
        ({"REDIS_URLL": "redis://localhost"}, "asynq.E001"),
        ({"REDIS_URL": "http://localhost"}, "asynq.E002"),
        ({"QUEUES": {"default": 0}}, "asynq.E003"),
        ({"QUEUES": {"": 1}}, "asynq.E003"),
        ({"CONCURRENCY": "many"}, "asynq.E004"),
        ({"SHUTDOWN_TIMEOUT": -1}, "asynq.E004"),
        ({"ERROR_HANDLER": "nowhere.handler"}, "asynq.E004"),
        ({"RETENTION": "1h"}, "asynq.E005"),
        ({"PERIODIC_TASKS": [{"cron": "* * * * *"}]}, "asynq.E006"),
        ({"PERIODIC_TASKS": "shop.tasks.sweep"}, "asynq.E006"),
        ({"MAX_RETRY": -1}, "asynq.E004"),
        ({"TIMEOUT": -5}, "asynq.E005"),
        ({"API_TOKEN": 123}, "asynq.E007"),
        ({"AUTODISCOVER": ["tasks", 1]}, "asynq.E008"),
        ({"HANDLER": object()}, "asynq.E009"),
        ({"RETENTION": 0}, "asynq.W001"),
    ],
)
def test_bad_settings_are_reported_with_their_check_id(asynq: object, check_id: str) -> None:
    with override_settings(ASYNQ=asynq):
        assert asynq_messages() == [check_id]


@pytest.mark.parametrize(
    ("asynq", "message"),
    [
        (
            {"REDIS_URL": "redis-sentinel://127.0.0.1:26379?master=m", "CLUSTER": True},
            "a Redis Cluster cannot also be reached through Sentinel",
        ),
        (
            {"REDIS_URL": "redis-cluster://127.0.0.1:7000,127.0.0.1:7001/2"},
            "a Redis Cluster has only database 0, not 2",
        ),
        (
            {"REDIS_URL": "redis://127.0.0.1:7000/1", "CLUSTER": True},
            "a Redis Cluster has only database 0, not 1",
        ),
        (
            {"REDIS_URL": "redis-cluster://127.0.0.1:7000", "REDIS_OPTIONS": {"db": 1}},
            "the option 'db' is set by the URL",
        ),
    ],
)
def test_a_cluster_setting_redis_cannot_honour_is_e002(asynq: object, message: str) -> None:
    with override_settings(ASYNQ=asynq):
        [error] = checks.run_checks(tags=["asynq"])
    assert error.id == "asynq.E002"
    assert message in error.msg
    assert "REDIS_URL" in error.msg


def test_every_config_field_is_a_key_and_typos_name_the_close_match() -> None:
    with override_settings(ASYNQ={"TASK_CHECK_INTERVAL": 0.5, "STRICT_PRIORITY": True}):
        config = get_settings().server_config(concurrency=3)
        assert (config.task_check_interval, config.strict_priority) == (0.5, True)
        assert config.concurrency == 3
    with override_settings(ASYNQ={"CONCURENCY": 2}):
        [message] = checks.run_checks(tags=["asynq"])
        assert message.id == "asynq.E001"
        assert "did you mean CONCURRENCY" in message.msg


def test_backend_options_win_over_asynq_and_are_checked() -> None:
    from asynq_django.tasks_api import task_backends

    tasks = {
        "default": {
            "BACKEND": "asynq_django.backend.AsynqBackend",
            "OPTIONS": {"RETENTION": 0, "QUEUES": {"x": 0}},
        }
    }
    with override_settings(TASKS=tasks):
        backend = task_backends["default"]
        assert [m.id for m in backend.check()] == ["asynq.E003"]
    tasks["default"]["OPTIONS"] = {"RETENTION": 0}
    with override_settings(TASKS=tasks):
        backend = task_backends["default"]
        assert backend.settings.retention == 0
        assert backend.settings.queues == {"critical": 6, "default": 3}  # from ASYNQ
        assert backend.supports_get_result is False


def test_default_checks_do_no_redis_io_but_the_deploy_probe_does() -> None:
    # Nothing listens on port 1: the default checks pass, the deploy check reports it.
    with override_settings(ASYNQ={"REDIS_URL": "redis://127.0.0.1:1/0"}):
        assert asynq_messages() == []
        assert asynq_messages(deploy=True) == ["asynq.E010"]


def test_start_up_and_the_default_checks_open_no_redis_connection(r: redis.Redis) -> None:
    # A whole manage.py process: importing the project, every app's ready() and the default
    # checks. Redis counts every connection it ever accepted.
    def connections_received() -> int:
        return int(r.info("stats")["total_connections_received"])

    before = connections_received()
    done = manage("check")
    assert done.returncode == 0, done.stderr
    assert connections_received() == before
    probed = manage("check", "--deploy", "--tag", "asynq")
    assert probed.returncode == 0, probed.stderr
    assert connections_received() > before  # the deploy probe is seen: the count is live
