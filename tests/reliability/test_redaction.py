"""Credentials never show: CLI errors, exception messages and reprs mask the Redis password."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
from click.testing import CliRunner

import asynq
from asynq.cli._root import cli
from asynq.connection import REDACTED, redact
from tests.cli._support import fails
from tests.helpers.redis_procs import RedisProcess, free_port

SECRET = "S3cret-p@ss:word"
QUOTED = "S3cret-p%40ss%3Aword"


@pytest.fixture(scope="module")
def guarded() -> Iterator[RedisProcess]:
    """A redis-server that wants a password (a different one from :data:`SECRET`)."""
    proc = RedisProcess()
    admin = redis.Redis(port=proc.port)
    admin.config_set("requirepass", "the-right-one")
    admin.close()
    yield proc
    proc.stop()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("redis://:pw@h:1/0", "redis://:***@h:1/0"),
        ("redis://user:p@ss:w@h:1/0 and more", "redis://user:***@h:1/0 and more"),
        ("redis-sentinel://:pw@a:1,b:2/0?master=m", "redis-sentinel://:***@a:1,b:2/0?master=m"),
        (":pw@h:1", ":***@h:1"),
        ("rediss://user@h:1", "rediss://user@h:1"),
        ("connecting to 127.0.0.1:6379", "connecting to 127.0.0.1:6379"),
    ],
)
def test_redact_masks_the_password_of_any_url(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_redact_masks_given_secrets_wherever_they_are() -> None:
    assert redact(f"AUTH failed for {SECRET}", SECRET) == f"AUTH failed for {REDACTED}"


def test_redis_connection_repr_hides_the_password() -> None:
    conn = asynq.RedisConnection.from_url(f"redis://user:{QUOTED}@host:1/0")
    assert conn.password == SECRET
    assert SECRET not in repr(conn) and QUOTED not in repr(conn)
    assert "password='***'" in repr(conn)


def test_passwords_in_redis_py_options_are_masked_too() -> None:
    conn = asynq.RedisConnection.from_url(
        "redis-sentinel://h:26379", sentinel_kwargs={"password": SECRET}
    )
    assert SECRET not in repr(conn) and "'password': '***'" in repr(conn)


def test_a_malformed_url_error_does_not_print_the_password() -> None:
    with pytest.raises(asynq.ValidationError) as caught:
        asynq.RedisConnection.from_url(f"redis://user:{QUOTED}@host:1/notadb")
    assert QUOTED not in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize("how", ["flag", "env", "password-flag"])
def test_cli_errors_never_print_the_password(how: str, guarded: RedisProcess) -> None:
    # A wrong password, or (through the environment) nothing listening at all.
    port = free_port() if how == "env" else guarded.port
    url = f"redis://:{QUOTED}@127.0.0.1:{port}/0"
    if how == "flag":
        args, env = ["-u", url, "stats"], {}
    elif how == "env":
        args, env = ["stats"], {"ASYNQ_REDIS_URL": url}
    else:
        args, env = ["-u", f"127.0.0.1:{port}", "-p", SECRET, "stats"], {}
    result = CliRunner().invoke(cli, args, env=env)
    err = fails(result)
    assert "cannot talk to Redis" in err
    assert SECRET not in result.output and QUOTED not in result.output


def test_client_errors_and_logs_never_carry_the_password(
    guarded: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://:{QUOTED}@127.0.0.1:{guarded.port}/0"
    caplog.set_level(logging.DEBUG)
    with asynq.Client(url) as client, pytest.raises(asynq.BrokerConnectionError) as caught:
        client.enqueue(asynq.Task("t"))
    assert SECRET not in str(caught.value) and QUOTED not in str(caught.value)
    assert SECRET not in caplog.text and QUOTED not in caplog.text
    assert SECRET not in repr(client)


def test_a_wrong_type_key_is_a_reply_error_not_a_connection_error(redis_url: str) -> None:
    redis.Redis.from_url(redis_url).set("asynq:{q}:pending", "not a list")
    with asynq.Client(redis_url) as client, pytest.raises(asynq.BrokerReplyError) as caught:
        client.enqueue(asynq.Task("t"), queue="q")
    assert not isinstance(caught.value, asynq.BrokerConnectionError)
    assert "WRONGTYPE" in str(caught.value)
