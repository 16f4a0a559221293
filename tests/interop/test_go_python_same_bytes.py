"""For the same inputs, Python's producer writes to Redis exactly what Go's ``Client`` writes.

Go (``peer_enqueue``) enqueues the option table into an empty Redis; every key is snapshot;
Redis is flushed; Python enqueues the same table; the two snapshots must match: the key set,
hash fields, ``msg`` bytes (decoded-equal where Go's header map order is random), list order,
ZSET members and integer scores, unique lock values and TTLs (±1 s), and ``asynq:queues``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import asynq
from asynq._base.codec import encode_message
from asynq._options import compose
from tests.helpers import gopeer
from tests.interop.cases import Case, enqueue_many, go_info, info_json, table, without
from tests.interop.redis_dump import assert_same_redis, dump

pytestmark = pytest.mark.interop

#: The worked example of docs/compatibility.md#protobuf-worked-example.
VECTOR_ID = "7d1b3f2e-5c1a-4f0e-9b7a-2d3c4e5f6a7b"
VECTOR_HEX = (
    "0a0a656d61696c3a73656e64120e7b22746f223a226140622e63227d1a2437643162336632652d356331612d"
    "346630652d396237612d326433633465356636613762220764656661756c74281940880e"
)
VECTOR_HEADER_SUFFIX = "7a0c0a0574726163651203616263"


def vector_case(headers: dict[str, str] | None = None) -> Case:
    return Case("vector", "email:send", b'{"to":"a@b.c"}', headers, {"task_id": VECTOR_ID})


def go_enqueue(go_flags: list[str], cases: list[Case]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = gopeer.run_go_json(
        "peer_enqueue", *go_flags, input=[c.go_spec() for c in cases]
    )
    assert len(out) == len(cases)
    return out


def test_go_vector_python_codec_unit():
    """Pure: Python composes the worked example's message to the exact bytes Go writes."""
    c = vector_case()
    composed = compose(c.py_task(), c.options, 1_700_000_000.0, 1_700_000_000.0)
    assert encode_message(composed.msg).hex() == VECTOR_HEX
    c = vector_case({"trace": "abc"})
    composed = compose(c.py_task(), c.options, 1_700_000_000.0, 1_700_000_000.0)
    assert encode_message(composed.msg).hex() == VECTOR_HEX + VECTOR_HEADER_SUFFIX


def test_go_vector_written_by_both(make_client, redis_url, r, go_redis):
    key = f"asynq:{{default}}:t:{VECTOR_ID}"
    go_enqueue(go_redis, [vector_case()])
    assert r.hget(key, "msg").hex() == VECTOR_HEX
    r.flushdb()
    vector_case().enqueue(make_client(redis_url))
    assert r.hget(key, "msg").hex() == VECTOR_HEX
    r.flushdb()
    go_enqueue(go_redis, [vector_case({"trace": "abc"})])
    assert r.hget(key, "msg").hex() == VECTOR_HEX + VECTOR_HEADER_SUFFIX


@pytest.mark.parametrize("path", ["enqueue", "enqueue_many"])
def test_go_and_python_write_identical_redis_state(make_client, redis_url, r, go_redis, path):
    now = int(time.time())
    cases = table(now)
    started = time.monotonic()
    go_out = go_enqueue(go_redis, cases)
    assert [o["error"] for o in go_out] == [""] * len(cases)
    go_state = dump(r)
    r.flushdb()

    client = make_client(redis_url)
    if path == "enqueue":
        py_infos = [info_json(c.enqueue(client)) for c in cases]
    else:
        py_infos = [info_json(i) for i in enqueue_many(client, cases)]
    py_state = dump(r)
    slack = time.monotonic() - started + 1

    # The table really reaches every write path.
    assert {i["state"] for i in py_infos} == {"pending", "scheduled", "aggregating"}
    assert sum(k.startswith("asynq:{") and ":unique:" in k for k in go_state) == 7
    assert "asynq:{default}:unique:unique:nil:" in go_state

    absolute = frozenset(
        c.id.encode()
        for c in cases
        if c.expected_state(now) == "scheduled" and "process_in" not in c.all_options
    )
    assert_same_redis(go_state, py_state, exact_scores=absolute, slack_s=slack)

    # Both clients return the same TaskInfo ("now" differs a little for pending tasks).
    for c, go, py in zip(cases, go_out, py_infos, strict=True):
        g = go_info(go["info"])
        assert without(py, "next_process_at") == without(g, "next_process_at"), c.name
        if py["state"] == "pending" or "process_in" in c.all_options:
            assert abs(py["next_process_at"] - g["next_process_at"]) <= slack, c.name
        else:
            assert py["next_process_at"] == g["next_process_at"], c.name


def test_go_and_python_refuse_each_others_duplicates(make_client, redis_url, r, go_redis):
    """Task ids and unique locks taken by one side are honoured by the other, with Go's errors."""
    cases = table(int(time.time()))
    unique = [c for c in cases if "unique" in c.all_options]
    others = [c for c in cases if "unique" not in c.all_options]
    client = make_client(redis_url)

    go_enqueue(go_redis, cases)
    for c in unique:
        with pytest.raises(asynq.DuplicateTaskError):
            c.enqueue(client)
    for c in others:
        with pytest.raises(asynq.TaskIDConflictError):
            c.enqueue(client)

    r.flushdb()
    for c in cases:
        c.enqueue(client)
    errors = [o["error"] for o in go_enqueue(go_redis, cases)]
    assert errors == [
        "task already exists"
        if "unique" in c.all_options
        else "task ID conflicts with another task"
        for c in cases
    ]
