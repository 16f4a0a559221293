"""Snapshot every key of a Redis server (type, value, TTL) and compare two snapshots.

Used to prove that Python's producer leaves Redis byte-for-byte as Go's does. Values that
depend on the moment of the write are compared with a tolerance: ``pending_since``
nanoseconds, ZSET scores of relative times, TTLs (±1 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asynq._base.codec import decode_message


@dataclass(frozen=True)
class Entry:
    kind: str
    value: Any
    ttl: int


def dump(r: Any) -> dict[str, Entry]:
    """Every key of the current database of ``r`` (a bytes-returning ``redis.Redis``)."""
    out: dict[str, Entry] = {}
    for raw_key in r.scan_iter(count=1000):
        key = raw_key.decode()
        kind = r.type(raw_key).decode()
        value: Any
        if kind == "hash":
            value = {f.decode(): v for f, v in r.hgetall(raw_key).items()}
        elif kind == "list":
            value = r.lrange(raw_key, 0, -1)
        elif kind == "set":
            value = r.smembers(raw_key)
        elif kind == "zset":
            value = {m: s for m, s in r.zrange(raw_key, 0, -1, withscores=True)}
        elif kind == "string":
            value = r.get(raw_key)
        else:  # pragma: no cover - asynq writes no other types
            raise AssertionError(f"unexpected Redis type {kind} for {key}")
        out[key] = Entry(kind, value, int(r.ttl(raw_key)))
    return out


def same_msg(key: str, go: bytes, py: bytes) -> None:
    """``msg`` bytes equal; decoded-equal only where Go's map order is random (>= 2 headers)."""
    if py == go:
        return
    go_msg = decode_message(go)
    assert len(go_msg.headers) >= 2, (key, go.hex(), py.hex())
    assert decode_message(py) == go_msg, key


def _same_hash(key: str, go: Mapping[str, bytes], py: Mapping[str, bytes], slack_ns: int) -> None:
    assert set(py) == set(go), key
    for name, go_value in go.items():
        if name == "msg":
            same_msg(key, go_value, py[name])
        elif name == "pending_since":
            assert abs(int(py[name]) - int(go_value)) <= slack_ns, key
        else:
            assert py[name] == go_value, (key, name)


def assert_same_redis(
    go: Mapping[str, Entry],
    py: Mapping[str, Entry],
    *,
    exact_scores: frozenset[bytes],
    slack_s: float,
) -> None:
    """Python's snapshot equals Go's.

    Args:
        exact_scores: ZSET members whose score must match exactly (absolute process times);
            other scores may differ by ``slack_s`` seconds (they are "now" at the write).
        slack_s: how far apart the two writes were, in seconds.
    """
    assert sorted(py) == sorted(go)
    for key, g in go.items():
        p = py[key]
        assert p.kind == g.kind, key
        if g.ttl < 0:
            assert p.ttl == g.ttl, key
        else:
            assert abs(p.ttl - g.ttl) <= 1, (key, g.ttl, p.ttl)
        if g.kind == "hash":
            _same_hash(key, g.value, p.value, int(slack_s * 1e9))
        elif g.kind == "zset":
            assert set(p.value) == set(g.value), key
            for member, score in g.value.items():
                assert float(score).is_integer() and float(p.value[member]).is_integer(), key
                tolerance = 0 if member in exact_scores else slack_s
                assert abs(p.value[member] - score) <= tolerance, (key, member)
        else:
            assert p.value == g.value, key
