"""The extension: init_app and the factory pattern, ASYNQ_* settings, one client per process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask

import asynq
from asynq_flask import Asynq, AsynqState
from tests.helpers.processes import report_from_fork


def test_constructor_and_init_app_register_the_state(redis_url: str) -> None:
    direct = Flask("direct")
    direct.config["ASYNQ_REDIS_URL"] = redis_url
    extension = Asynq(direct)
    factory = Flask("factory")
    later = Asynq()
    later.init_app(factory)

    assert isinstance(direct.extensions["asynq"], AsynqState)
    assert direct.extensions["asynq"].extension is extension
    assert extension.state(direct).settings.redis_url == redis_url
    assert later.state(factory).settings.redis_url is None
    assert "asynq" in direct.cli.commands and "asynq" in factory.cli.commands


def test_registering_twice_on_one_app_is_an_error() -> None:
    app = Flask("twice")
    Asynq(app)
    with pytest.raises(RuntimeError, match="already been registered"):
        Asynq(app)
    with pytest.raises(RuntimeError, match="already been registered"):
        app.extensions["asynq"].extension.init_app(app)


def test_one_extension_serves_several_apps_with_their_own_settings(
    make_app: Callable[..., Flask],
) -> None:
    extension = Asynq()
    small = make_app(extension, "small", ASYNQ_CONCURRENCY=2, ASYNQ_QUEUES={"low": 1})
    big = make_app(extension, "big", ASYNQ_CONCURRENCY=16, ASYNQ_STRICT_PRIORITY=True)

    with small.app_context():
        assert extension.state().settings.server.concurrency == 2
        assert dict(extension.state().settings.server.queues) == {"low": 1}
    with big.app_context():
        assert extension.state().settings.server.concurrency == 16
        assert extension.state().settings.server.strict_priority is True
    other = Flask("other")
    with other.app_context(), pytest.raises(RuntimeError, match="not registered"):
        extension.state()
    with pytest.raises(RuntimeError, match="application context"):
        extension.state()


def test_defaults_are_set_in_app_config() -> None:
    app = Flask("defaults")
    Asynq(app)
    assert app.config["ASYNQ_REDIS_URL"] is None
    assert app.config["ASYNQ_QUEUES"] == {"default": 1}
    assert app.config["ASYNQ_CONCURRENCY"] == 0
    assert app.config["ASYNQ_STRICT_PRIORITY"] is False
    assert app.config["ASYNQ_SHUTDOWN_TIMEOUT"] == 8.0
    assert app.config["ASYNQ_IMPORTS"] == ()
    assert app.config["ASYNQ_SCHEDULER"] is None
    server = app.extensions["asynq"].settings.server
    assert server.concurrency == (os.cpu_count() or 1)  # 0 means "the number of CPUs"


def test_every_server_setting_maps_onto_config() -> None:
    app = Flask("mapped")
    app.config.update(
        ASYNQ_GROUP_MAX_SIZE=50,
        ASYNQ_JANITOR_INTERVAL=3,
        ASYNQ_LOGGER="shop.worker",
        ASYNQ_RETRY_DELAY_FUNC="asynq.server:default_retry_delay",
    )
    Asynq(app)
    server = app.extensions["asynq"].settings.server
    assert server.group_max_size == 50
    assert server.janitor_interval == 3.0
    assert server.log.name == "shop.worker"
    assert server.retry_delay_func is asynq.server.default_retry_delay


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_ASYNQ_CONCURRENCY", "3")
    monkeypatch.setenv("FLASK_ASYNQ_QUEUES", json.dumps({"critical": 6, "default": 3}))
    app = Flask("env")
    app.config.from_prefixed_env()
    Asynq(app)
    server = app.extensions["asynq"].settings.server
    assert server.concurrency == 3
    assert dict(server.queues) == {"critical": 6, "default": 3}


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"ASYNQ_CONCURENCY": 4}, "did you mean 'concurrency'"),
        ({"ASYNQ_CONCURRENCY": "many"}, "concurrency must be an int"),
        ({"ASYNQ_QUEUES": {"a": "high"}}, "priority of queue 'a' must be an int"),
        ({"ASYNQ_REDIS_URL": "http://example.com"}, "unsupported redis URL scheme"),
        ({"ASYNQ_REDIS_URL": 6379}, "ASYNQ_REDIS_URL must be a Redis URL"),
        ({"ASYNQ_IMPORTS": "shop.tasks"}, "ASYNQ_IMPORTS must be a list"),
        ({"ASYNQ_ERROR_HANDLER": "shop.nowhere:report"}, "'error_handler'"),
    ],
)
def test_bad_settings_fail_at_init_app(config: dict[str, object], needle: str) -> None:
    app = Flask("bad")
    app.config.update(config)
    with pytest.raises(asynq.ValidationError, match=needle):
        Asynq(app)
    assert "asynq" not in app.extensions


def test_apps_on_one_redis_share_the_process_client(
    make_app: Callable[..., Flask], redis_url: str, r: redis.Redis
) -> None:
    extension = Asynq()
    make_app(extension, "one")
    first = asynq.get_client()
    make_app(extension, "two")  # the same URL: the client made so far stays
    assert asynq.get_client() is first
    info = first.enqueue(asynq.Task("ping"), queue="shared")
    assert r.lrange("asynq:{shared}:pending", 0, -1) == [info.id.encode()]


def test_an_app_on_another_redis_says_it_moves_the_process_clients(
    make_app: Callable[..., Flask], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    extension = Asynq()
    make_app(extension, "first")
    assert not caplog.records
    make_app(extension, "second", ASYNQ_REDIS_URL=redis_url + "?client_name=second")
    (record,) = caplog.records
    assert record.levelname == "WARNING"
    assert "'second'" in record.getMessage() and "'first'" in record.getMessage()


def test_a_forked_worker_process_makes_its_own_client(
    make_app: Callable[..., Flask], r: redis.Redis
) -> None:
    """What gunicorn's pre-fork model does: the app is loaded in the parent, then forked."""
    extension = Asynq()

    @extension.task("fork:ping")
    def ping(n: int) -> None: ...

    app = make_app(extension, "prefork")
    with app.app_context():
        parent_id = ping.enqueue(0).id
    parent_client = asynq.get_client()
    parent_addrs = {c["addr"] for c in r.client_list() if c.get("cmd") != "client|list"}

    def child() -> dict[str, Any]:
        with app.app_context():
            ids = [ping.enqueue(n).id for n in range(1, 51)]
        local = asynq.get_client().enqueue(asynq.Task("fork:raw"), queue="default")
        return {"same": asynq.get_client() is parent_client, "ids": [*ids, local.id]}

    report = report_from_fork(child)
    with app.app_context():
        after_id = ping.enqueue(99).id  # the parent's client still works after the fork

    assert report["same"] is False
    pending = {m.decode() for m in r.lrange("asynq:{default}:pending", 0, -1)}
    assert pending == {parent_id, after_id, *report["ids"]}
    assert parent_addrs  # the parent had a connection of its own before forking


def test_init_app_docstring_and_docs_name_every_setting() -> None:
    import dataclasses
    from pathlib import Path

    from asynq_flask.settings import ADAPTER_KEYS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "flask.md").read_text()
    keys = [*ADAPTER_KEYS, *(f"ASYNQ_{f.name.upper()}" for f in dataclasses.fields(asynq.Config))]
    for key in keys:
        assert f"``{key}``" in (Asynq.init_app.__doc__ or ""), key
        assert f"`{key}`" in docs, key
