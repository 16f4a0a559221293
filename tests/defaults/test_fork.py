"""A forked child makes its own default client and never shares the parent's socket."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import redis

import asynq
from tests.defaults._support import pending


def test_forked_child_and_parent_enqueue_side_by_side(
    configured: Callable[[str], None],
    connections: Callable[[str], set[str]],
    r: redis.Redis,
) -> None:
    configured("forked")
    parent_client = asynq.get_client()
    parent_client.enqueue(asynq.Task("warm-up"), queue="parent")  # the parent's socket is open
    parents = connections("forked")
    assert parents

    report_r, report_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(report_r)
            os.close(go_w)
            client = asynq.get_client()
            ids = [client.enqueue(asynq.Task("c"), queue="child").id for _ in range(300)]
            report = {"same_object": client is parent_client, "ids": ids}
            os.write(report_w, json.dumps(report).encode() + b"\n")
            os.read(go_r, 1)  # stay connected until the parent has looked at CLIENT LIST
            code = 0
        finally:
            os._exit(code)

    os.close(report_w)
    os.close(go_r)
    # Enqueue while the child does: a shared socket would interleave the two streams.
    parent_ids = [parent_client.enqueue(asynq.Task("p"), queue="parent").id for _ in range(300)]
    with os.fdopen(report_r) as reader:
        report = json.loads(reader.readline())
    during = connections("forked")
    os.write(go_w, b"x")
    os.close(go_w)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert report["same_object"] is False
    assert during - parents, "the child opened no connection of its own"
    assert len(set(report["ids"])) == 300
    assert pending(r, "child") == set(report["ids"])
    assert pending(r, "parent") >= set(parent_ids)
    assert len(pending(r, "parent")) == 301
    # The parent's client still works after the child exited.
    parent_client.enqueue(asynq.Task("after"), queue="after")
    assert asynq.get_client() is parent_client
