"""Every public entry point refuses bad arguments with a ValidationError that says what is
wrong, before anything reaches Redis."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import redis

import asynq
from asynq.server import Config

T = asynq.Task("t")
HUGE = 10**14
DURATION_RANGE = "between 0 and 9223372036 seconds"
INSTANT_RANGE = "between 1970-01-01 and 9999-12-31 UTC"

# Option name → (bad value, what the message must say). Each is tried on every way of passing
# options: enqueue(), Task(...) defaults, Scheduler.register().
BAD_OPTIONS: list[tuple[str, Any, str]] = [
    ("max_retry", "3", "max_retry must be an int"),
    ("max_retry", 2**31, "max_retry cannot exceed 2147483647"),
    ("queue", "", "queue name cannot be empty"),
    ("queue", "  ", "queue name cannot be empty"),
    ("queue", 7, "queue name must be a str, not int"),
    ("queue", "a{b}", "queue name cannot contain"),
    ("queue", "bad\ud800", "queue name must be encodable as UTF-8"),
    ("timeout", -1, DURATION_RANGE),
    ("timeout", 0.5, "timeout must be at least one second"),
    ("timeout", 2**62, f"timeout must be {DURATION_RANGE}"),
    ("timeout", 1e30, f"timeout must be {DURATION_RANGE}"),
    ("timeout", 10**5000, "not an integer of 16610 bits"),
    ("timeout", math.inf, f"timeout must be {DURATION_RANGE}"),
    ("timeout", math.nan, f"timeout must be {DURATION_RANGE}"),
    ("timeout", "30s", "timeout must be a number of seconds or a timedelta"),
    ("retention", HUGE, f"retention must be {DURATION_RANGE}"),
    ("retention", 0.5, "retention must be at least one second"),
    ("deadline", 2**62, f"deadline must fall {INSTANT_RANGE}"),
    ("deadline", -5, f"deadline must fall {INSTANT_RANGE}"),
    ("deadline", datetime(2030, 1, 1), "deadline must be an aware datetime"),
    ("process_at", 1e15, f"process_at must fall {INSTANT_RANGE}"),
    ("process_at", math.nan, f"process_at must fall {INSTANT_RANGE}"),
    ("process_in", -1, f"process_in must be {DURATION_RANGE}"),
    ("process_in", 1e30, f"process_in must be {DURATION_RANGE}"),
    ("unique", 1e30, f"unique must be {DURATION_RANGE}"),
    ("unique", 0.5, "unique TTL cannot be less than 1s"),
    ("task_id", "", "task id cannot be empty"),
    ("task_id", 12, "task id must be a str, not int"),
    ("task_id", "\udfff", "task id must be encodable as UTF-8"),
    ("group", "", "group cannot be empty"),
    ("group", b"g", "group must be a str, not bytes"),
    ("headers", {"k": 1}, "task headers must map str to str"),
    ("headers", {"k": "\ud800"}, "task header 'k' must be encodable as UTF-8"),
    ("no_such_option", 1, "unknown"),
]

Case = tuple[str, Callable[[dict[str, Any]], Any], str]


def _short(value: Any) -> str:
    """A test id for ``value`` (repr cannot print an int of thousands of digits)."""
    return "10**5000" if isinstance(value, int) and value > 10**100 else repr(value)


CASES: list[Case] = [
    ("Task: type not a str", lambda o: asynq.Task(123, b""), "task type must be a str, not int"),
    ("Task: blank type", lambda o: asynq.Task(" "), "task type cannot be empty"),
    ("Task: lone surrogate", lambda o: asynq.Task("\ud800"), "task type must be encodable"),
    ("Task: str payload", lambda o: asynq.Task("t", "x"), "use Task.from_json"),
    ("Task.from_json: not JSON", lambda o: asynq.Task.from_json("t", {1j}), "cannot be encoded"),
    ("Task: unknown option", lambda o: asynq.Task("t", retries=3), "unknown task option"),
    ("Client(): bad URL", lambda o: asynq.Client("ftp://h"), "unsupported redis URL scheme"),
    ("Client(): not a URL", lambda o: asynq.Client(123), "expected a Redis URL"),
    ("AsyncClient(): bad port", lambda o: asynq.AsyncClient("redis://h:0"), "invalid redis addr"),
    ("Inspector(): bad db", lambda o: asynq.Inspector("redis://h/x"), "invalid database"),
    ("RedisConnection: no host", lambda o: asynq.RedisConnection.from_url("redis://"), "no host"),
    ("configure: bad redis", lambda o: asynq.configure(redis=5), "configure(redis=...)"),
    ("Config: bad priority", lambda o: Config(queues={"a": "x"}), "priority of queue 'a'"),
    (
        "Config: negative",
        lambda o: Config(shutdown_timeout=-1),
        "shutdown_timeout must be between 0",
    ),
    ("Config: concurrency", lambda o: Config(concurrency="x"), "concurrency must be an int"),
    ("Config.from_mapping", lambda o: Config.from_mapping({"nope": 1}), "unknown Config setting"),
    ("ServeMux.handle: blank", lambda o: asynq.ServeMux().handle("", print), "invalid pattern"),
    ("ServeMux.handle: not callable", lambda o: asynq.ServeMux().handle("t", 5), "not callable"),
    ("Scheduler.register: spec", lambda o: o["sched"].register("nonsense", T), "5 fields"),
    (
        "Scheduler.register: not a Task",
        lambda o: o["sched"].register("@every 1s", "t"),
        "asynq.Task",
    ),
]
for flavor in ("client", "aclient"):
    CASES += [
        (f"{flavor}.enqueue: not a Task", lambda o, f=flavor: o[f].enqueue("t"), "asynq.Task"),
        (
            f"{flavor}.enqueue_in: negative",
            lambda o, f=flavor: o[f].enqueue_in(T, -1),
            "process_in",
        ),
        (f"{flavor}.enqueue_at: huge", lambda o, f=flavor: o[f].enqueue_at(T, 1e15), "process_at"),
        (
            f"{flavor}.enqueue_unique: ttl=1e30",
            lambda o, f=flavor: o[f].enqueue_unique(T, ttl=1e30),
            f"unique must be {DURATION_RANGE}",
        ),
        (f"{flavor}.add_to_group: blank", lambda o, f=flavor: o[f].add_to_group(T, ""), "group"),
        (
            f"{flavor}.enqueue_many: not a list",
            lambda o, f=flavor: o[f].enqueue_many(5),
            "iterable",
        ),
        (
            f"{flavor}.enqueue_many: one bad",
            lambda o, f=flavor: o[f].enqueue_many([T, asynq.Task("t", timeout=HUGE)]),
            "timeout must be",
        ),
    ]
    CASES += [
        (
            f"{flavor}.enqueue {name}={_short(value)}",
            lambda o, f=flavor, n=name, v=value: o[f].enqueue(T, **{n: v}),
            match,
        )
        for name, value, match in BAD_OPTIONS
    ]
for flavor in ("insp", "ainsp"):
    CASES += [
        (f"{flavor}: blank queue", lambda o, f=flavor: o[f].get_queue_info(""), "queue name"),
        (f"{flavor}: queue int", lambda o, f=flavor: o[f].list_pending_tasks(3), "must be a str"),
        (
            f"{flavor}: surrogate queue",
            lambda o, f=flavor: o[f].delete_queue("\ud800"),
            "encodable as UTF-8",
        ),
        (f"{flavor}: page 0", lambda o, f=flavor: o[f].list_retry_tasks("q", page=0), "page must"),
        (
            f"{flavor}: page_size str",
            lambda o, f=flavor: o[f].list_archived_tasks("q", page_size="9"),
            "page_size must",
        ),
        (f"{flavor}: days 0", lambda o, f=flavor: o[f].history("q", 0), "days must be positive"),
        (f"{flavor}: blank id", lambda o, f=flavor: o[f].get_task_info("q", ""), "task id"),
        (f"{flavor}: delete blank id", lambda o, f=flavor: o[f].delete_task("q", " "), "task id"),
        (f"{flavor}: run id int", lambda o, f=flavor: o[f].run_task("q", 5), "task id must be"),
        (
            f"{flavor}: payload str",
            lambda o, f=flavor: o[f].update_task_payload("q", "id", "x"),
            "payload must be bytes",
        ),
        (
            f"{flavor}: blank group",
            lambda o, f=flavor: o[f].list_aggregating_tasks("q", ""),
            "group name cannot be empty",
        ),
        (f"{flavor}: cancel blank", lambda o, f=flavor: o[f].cancel_processing(""), "task id"),
        (
            f"{flavor}: blank entry",
            lambda o, f=flavor: o[f].list_scheduler_enqueue_events(""),
            "entry id",
        ),
    ]
CASES += [
    (
        f"Task({name}={_short(value)})",
        lambda o, n=name, v=value: o["client"].enqueue(asynq.Task("t", **{n: v})),
        match,
    )
    for name, value, match in BAD_OPTIONS
    if name != "headers"  # headers are the Task's own argument, tested above
]
CASES += [
    (
        f"Scheduler.register {name}={_short(value)}",
        lambda o, n=name, v=value: o["sched"].register("@every 1s", T, **{n: v}),
        match,
    )
    for name, value, match in BAD_OPTIONS
    if name not in ("process_at", "process_in")  # a periodic task has no process time
]


@pytest.mark.parametrize(("case", "call", "match"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_argument_is_refused_before_redis(
    case: str, call: Callable[[dict[str, Any]], Any], match: str, redis_url: str, r: redis.Redis
) -> None:
    objects: dict[str, Any] = {
        "client": asynq.Client(redis_url),
        "aclient": asynq.AsyncClient(redis_url),
        "insp": asynq.Inspector(redis_url),
        "ainsp": asynq.AsyncInspector(redis_url),
        "sched": asynq.Scheduler(redis_url),
    }
    try:
        with pytest.raises(asynq.ValidationError) as caught:
            result = call(objects)
            if inspect.isawaitable(result):
                await result
        assert match in str(caught.value), str(caught.value)
    finally:
        objects["client"].close()
        objects["insp"].close()
        await objects["aclient"].close()
        await objects["ainsp"].close()
    assert r.keys("*") == []
