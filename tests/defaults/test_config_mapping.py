"""``Config.from_mapping``: a server configuration from a settings dict (Django/Flask style)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
import redis

import asynq
from asynq.server import Config, Server
from tests.defaults import settings_hooks


def test_upper_and_lower_case_keys() -> None:
    config = Config.from_mapping(
        {
            "CONCURRENCY": 7,
            "queues": {"critical": 6, "default": 3},
            "Strict_Priority": True,
            "SHUTDOWN_TIMEOUT": timedelta(seconds=20),
            "GROUP_GRACE_PERIOD": 5,
        }
    )
    assert config.concurrency == 7
    assert config.queues == {"critical": 6, "default": 3}
    assert config.strict_priority is True
    assert config.shutdown_timeout == 20.0
    assert config.group_grace_period == 5.0


def test_an_empty_mapping_is_the_default_config() -> None:
    assert Config.from_mapping({}) == Config()


@pytest.mark.parametrize("path_form", ["{mod}:{attr}", "{mod}.{attr}"])
def test_callbacks_by_import_path(path_form: str) -> None:
    def path(attr: str) -> str:
        return path_form.format(mod=settings_hooks.__name__, attr=attr)

    config = Config.from_mapping(
        {
            "ERROR_HANDLER": path("record_error"),
            "RETRY_DELAY_FUNC": path("one_hour"),
            "IS_FAILURE": path("never_a_failure"),
            "GROUP_AGGREGATOR": path("digest"),
            "HEALTH_CHECK_FUNC": path("record_error"),
        }
    )
    assert config.error_handler is settings_hooks.record_error
    assert config.retry_delay_func is settings_hooks.one_hour
    assert config.is_failure is settings_hooks.never_a_failure
    assert config.group_aggregator is settings_hooks.digest
    assert config.health_check_func is settings_hooks.record_error


def test_objects_are_taken_as_they_are() -> None:
    config = Config.from_mapping({"error_handler": settings_hooks.record_error})
    assert config.error_handler is settings_hooks.record_error


def test_logger_by_name() -> None:
    assert Config.from_mapping({"LOGGER": "myapp.asynq"}).log is logging.getLogger("myapp.asynq")


@pytest.mark.parametrize(
    ("mapping", "needles"),
    [
        ({"CONCURENCY": 3}, ["unknown Config setting 'CONCURENCY'", "'concurrency'"]),
        ({"QUEUE": {"a": 1}}, ["unknown Config setting 'QUEUE'", "'queues'"]),
        ({"colour": "blue"}, ["unknown Config setting 'colour'"]),
        ({"concurrency": 2, "CONCURRENCY": 3}, ["'concurrency' is given twice"]),
        ({"ERROR_HANDLER": "no_such_module_xyz:f"}, ["'error_handler'", "no_such_module_xyz"]),
        ({"IS_FAILURE": "os:no_such_attr"}, ["'is_failure'", "no_such_attr"]),
        ({"RETRY_DELAY_FUNC": "not a path"}, ["'retry_delay_func'", "invalid import string"]),
        ({"CONCURRENCY": "8"}, ["concurrency must be an int"]),
        ({"SHUTDOWN_TIMEOUT": "8s"}, ["shutdown_timeout"]),
        ({1: 2}, ["setting names are strings"]),
    ],
)
def test_bad_settings_name_the_key(mapping: dict[object, object], needles: list[str]) -> None:
    with pytest.raises(asynq.ValidationError) as caught:
        Config.from_mapping(mapping)  # type: ignore[arg-type]
    for needle in needles:
        assert needle in str(caught.value)


def test_unknown_key_without_close_match_suggests_nothing() -> None:
    with pytest.raises(asynq.ValidationError) as caught:
        Config.from_mapping({"colour": "blue"})
    assert "did you mean" not in str(caught.value)


async def test_a_server_uses_the_callbacks_named_in_settings(
    redis_url: str, r: redis.Redis
) -> None:
    hooks = settings_hooks.__name__
    config = Config.from_mapping(
        {
            "CONCURRENCY": 1,
            "TASK_CHECK_INTERVAL": 0.2,
            "ERROR_HANDLER": f"{hooks}:record_error",
            "RETRY_DELAY_FUNC": f"{hooks}.one_hour",
        }
    )

    async def fail(task: asynq.ActiveTask) -> None:
        raise RuntimeError("nope")

    settings_hooks.errors.clear()
    with asynq.Client(redis_url) as client:
        info = client.enqueue(asynq.Task("fails"), queue="default")
    before = time.time()
    server = Server(redis_url, config)
    await server.start(fail)
    try:
        for _ in range(200):
            if settings_hooks.errors:
                break
            await asyncio.sleep(0.05)
    finally:
        await server.shutdown()
    assert settings_hooks.errors == [(info.id, "nope")]
    retry_at = r.zscore("asynq:{default}:retry", info.id)
    assert retry_at is not None and retry_at >= before + 3600 - 1
