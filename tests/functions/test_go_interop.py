"""Task functions and Go services: a Go producer's ``json.Marshal`` of a struct is what a
Python task function reads, what a handle enqueues is what a Go handler unmarshals into the
same struct (unknown fields refused), and the same arguments from both sides share a
uniqueness lock when they marshal to the same bytes. Runs tests/go/cmd/fn_struct (Go asynq
v0.26.0)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import asynq
from tests.helpers import gopeer
from tests.helpers.waiting import wait_until
from tests.server.gohelpers import addr, go_events, go_json

pytestmark = pytest.mark.interop

registry = asynq.TaskRegistry()
received: list[dict[str, Any]] = []


@dataclass
class Address:
    city: str
    zip: str
    lines: list[str]


@registry.task("fn:welcome")
def welcome(
    user_id: int,
    email: str,
    sent_at: datetime,
    tags: list[str],
    scores: dict[str, float],
    token: bytes,
    address: Address,
    note: str | None = None,
) -> None:
    received.append(dict(locals()))


SENT_AT = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


#: A Welcome as a Go service fills it in, and the arguments the Python function receives.
GO_WELCOME: dict[str, Any] = {
    "user_id": 42,
    "email": "ada@example.com",
    "sent_at": "2026-03-01T12:30:15.25Z",
    "tags": ["new", "eu"],
    "scores": {"a": 1.5},
    "token": "AAH/",  # []byte is base64 in Go's JSON
    "address": {"city": "Paris", "zip": "75001", "lines": ["1 rue de Rivoli"]},
}
RECEIVED: dict[str, Any] = {
    "user_id": 42,
    "email": "ada@example.com",
    "sent_at": SENT_AT,
    "tags": ["new", "eu"],
    "scores": {"a": 1.5},
    "token": b"\x00\x01\xff",
    "address": Address("Paris", "75001", ["1 rue de Rivoli"]),
    "note": None,
}


async def test_a_go_producer_enqueues_a_python_task_function(
    start_server: Any, redis_url: str
) -> None:
    received.clear()
    await start_server(registry)
    sent = go_json("fn_struct", redis_url, "-mode", "enqueue", input=GO_WELCOME)
    assert json.loads(sent["payload"]) == GO_WELCOME  # the struct's own marshalling
    await wait_until(lambda: received)
    assert received == [RECEIVED]


async def test_a_go_structs_nil_slices_maps_and_bytes_are_empty_arguments(
    start_server: Any, redis_url: str
) -> None:
    received.clear()
    await start_server(registry)
    # Left out of the JSON Go reads, tags, scores, token and address.lines stay nil.
    nils = ("tags", "scores", "token")
    welcome = {k: v for k, v in GO_WELCOME.items() if k not in nils}
    welcome["address"] = {"city": "Paris", "zip": "75001"}
    sent = go_json("fn_struct", redis_url, "-mode", "enqueue", input=welcome)
    payload = json.loads(sent["payload"])
    assert [payload[k] for k in nils] + [payload["address"]["lines"]] == [None] * 4
    await wait_until(lambda: received)
    empty = {"tags": [], "scores": {}, "token": b"", "address": Address("Paris", "75001", [])}
    assert received == [{**RECEIVED, **empty}]  # and note, an Optional parameter, keeps None


@pytest.fixture
def go_fn_server(redis_url: str) -> Iterator[gopeer.GoProcess]:
    proc = gopeer.start_go("fn_struct", "-redis", addr(redis_url), "-mode", "server")
    yield proc
    proc.stop()


async def test_a_go_server_decodes_what_a_handle_enqueues(
    go_fn_server: gopeer.GoProcess, redis_url: str
) -> None:
    await wait_until(lambda: go_events(go_fn_server, "started"), within=30)
    with asynq.Client(redis_url) as client:
        info = welcome.using(client=client).enqueue(
            7,
            "bob@example.com",
            SENT_AT,
            ["vip"],
            {"x": 2.0},
            b"\x00\x01\xff",
            Address("Oslo", "0150", ["Karl Johans gate 1"]),
            note="hello",
        )
    decoded = await wait_until(
        lambda: go_events(go_fn_server, "decoded") or go_events(go_fn_server, "error")
    )
    assert decoded == [
        {
            "event": "decoded",
            "id": info.id,
            "welcome": {
                "user_id": 7,
                "email": "bob@example.com",
                "sent_at": "2026-03-01T12:30:15.25Z",
                "tags": ["vip"],
                "scores": {"x": 2},
                "token": "AAH/",
                "address": {"city": "Oslo", "zip": "0150", "lines": ["Karl Johans gate 1"]},
                "note": "hello",
            },
        }
    ], go_fn_server.output()


# -- unique tasks from both sides ---------------------------------------------------------------


@registry.task("fn:notice")
def notice(user_id: int, text: str, tags: list[str], score: float) -> None:
    """tests/go/cmd/fn_struct's Notice: no time, so both sides can write the same bytes."""


def go_notice(redis_url: str, **args: Any) -> dict[str, Any]:
    """Go enqueues a Notice of ``args`` with Unique(60s): its payload, and whether the lock
    was held (``duplicate``)."""
    out: dict[str, Any] = go_json(
        "fn_struct", redis_url, "-mode", "enqueue", "-task", "notice", "-unique", "60s", input=args
    )
    return out


def test_the_same_arguments_from_python_and_go_share_a_uniqueness_lock(redis_url: str) -> None:
    # Text with <, > and & (which Go escapes), an integer, a slice, a fractional float.
    args = {"user_id": 7, "text": "<b>Tom & Jerry</b>", "tags": ["a"], "score": 1.5}
    with asynq.Client(redis_url) as client:
        task = notice.task(**args)
        notice.using(client=client, unique=60).enqueue(**args)
    go = go_notice(redis_url, **args)
    assert go["payload"].encode() == task.payload  # byte for byte: the same lock key
    assert go.get("duplicate") is True, go


def test_arguments_go_marshals_differently_take_another_lock(redis_url: str) -> None:
    # A whole float is 2.0 in Python's JSON and 2 in Go's: the payloads, and locks, differ.
    args = {"user_id": 7, "text": "hello", "tags": ["a"], "score": 2.0}
    with asynq.Client(redis_url) as client:
        notice.using(client=client, unique=60).enqueue(**args)
    go = go_notice(redis_url, **args)
    assert json.loads(go["payload"]) == args
    assert "duplicate" not in go, go
