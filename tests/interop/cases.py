"""One table of tasks, enqueued the same way by Python and by Go (``peer_enqueue``).

Each :class:`Case` is written once in Python's option vocabulary (durations in seconds,
instants in Unix seconds) and translated to both sides, so the two producers get exactly the
same inputs. Also here: the JSON form of a Python ``TaskInfo`` matching Go's peer output, and
the expected placement of each case per Go's rules (docs/compatibility.md#task-placement).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asynq
from asynq import TaskInfo
from asynq._options import MAX_DURATION_SECONDS, MAX_UNIX_SECONDS


@dataclass(frozen=True)
class Case:
    """A task and its options; ``options`` go to the enqueue call, ``task_options`` to the task."""

    name: str
    type: str
    payload: bytes | None = b"{}"
    headers: Mapping[str, str] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    task_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def all_options(self) -> dict[str, Any]:
        """What Go composes: task options first, then the call's (the last one wins)."""
        return {**self.task_options, **self.options}

    @property
    def id(self) -> str:
        return str(self.all_options["task_id"])

    @property
    def queue(self) -> str:
        return str(self.all_options.get("queue", "default"))

    def go_spec(self) -> dict[str, Any]:
        """The ``peer_shared.TaskSpec`` JSON of this case."""
        return {
            "type": self.type,
            "payload": None if self.payload is None else base64.b64encode(self.payload).decode(),
            "headers": None if self.headers is None else dict(self.headers),
            "task_options": dict(self.task_options),
            "options": dict(self.options),
        }

    def py_task(self) -> asynq.Task:
        return asynq.Task(self.type, self.payload, headers=self.headers, **self.task_options)

    def enqueue(self, client: Any) -> TaskInfo:
        """Enqueue with a Python client (sync ``Client`` or a facade over ``AsyncClient``)."""
        info: TaskInfo = client.enqueue(self.py_task(), **self.options)
        return info

    def expected_state(self, now: float) -> str:
        """Go's placement: future process time → scheduled, else group → aggregating."""
        opts = self.all_options
        if "process_in" in opts and opts["process_in"] > 0:
            return "scheduled"
        if "process_at" in opts and opts["process_at"] > now:
            return "scheduled"
        return "aggregating" if opts.get("group") else "pending"

    def expected_fields(self, now: float) -> dict[str, Any]:
        """The TaskInfo fields Go's rules (docs/compatibility.md#task-placement) give this case,
        in peer JSON form."""
        opts = self.all_options
        timeout, deadline = opts.get("timeout", 0), opts.get("deadline")
        return {
            "id": self.id,
            "queue": self.queue,
            "type": self.type,
            "payload": self.payload or b"",
            "headers": dict(self.headers or {}),
            "state": self.expected_state(now),
            "max_retry": max(opts.get("max_retry", 25), 0),
            "retried": 0,
            "last_err": "",
            "last_failed_at": None,
            "timeout": 1800 if not timeout and deadline is None else int(timeout),
            "deadline": None if deadline is None else int(deadline),
            "group": opts.get("group", ""),
            "retention": int(opts.get("retention", 0)),
            "completed_at": None,
            "result": None,
        }


def enqueue_many(client: Any, cases: list[Case]) -> list[TaskInfo]:
    """Enqueue every case in one ``enqueue_many`` call (the pipelined write path)."""
    infos: list[TaskInfo] = client.enqueue_many([(c.py_task(), dict(c.options)) for c in cases])
    return infos


def table(now: int) -> list[Case]:
    """Every option and every placement; ``now`` is whole Unix seconds at test start."""
    later = now + 3600
    cases = [
        Case("defaults", "email:send", b'{"to":"a@b.c"}'),
        Case("nil-payload", "ping", None),
        Case("empty-payload", "ping:empty", b""),
        Case("binary-payload", "blob", bytes(range(256))),
        Case(
            "all-options-pending",
            "report:build",
            b'{"id":1}',
            {"trace": "abc"},
            {
                "max_retry": 3,
                "queue": "critical",
                "timeout": 60,
                "deadline": later + 7200,
                "retention": 86400,
            },
        ),
        Case("deadline-only", "job:deadline", b"d", options={"deadline": later}),
        Case("timeout-and-deadline", "job:both", b"b", options={"timeout": 45, "deadline": later}),
        # Go truncates durations and instants to whole seconds
        # (docs/compatibility.md#quirk-whole-seconds).
        Case(
            "fractions",
            "job:frac",
            b"f",
            options={"timeout": 90.9, "retention": 59.99, "deadline": later + 0.75},
        ),
        Case("scheduled-at-fraction", "job:atfrac", b"af", options={"process_at": later + 0.6}),
        # The longest durations and the latest deadline Python accepts: Go reads them back
        # without overflow (docs/reliability.md#input-is-checked-before-anything-is-written).
        Case(
            "longest-durations",
            "job:forever",
            b"l",
            options={
                "timeout": MAX_DURATION_SECONDS,
                "retention": MAX_DURATION_SECONDS,
                "deadline": MAX_UNIX_SECONDS,
            },
        ),
        Case("longest-unique", "unique:forever", b"lu", options={"unique": MAX_DURATION_SECONDS}),
        Case("unique-fraction", "unique:frac", b"uf", options={"unique": 2.5}),
        Case("max-retry-zero", "job:noretry", b"0", options={"max_retry": 0}),
        Case("max-retry-negative", "job:negretry", b"-", options={"max_retry": -5}),
        Case("retention", "job:keep", b"k", options={"retention": 600}),
        Case("process-at-past", "job:past", b"p", options={"process_at": now - 600}),
        Case("scheduled-at", "job:at", b"a", options={"process_at": later, "queue": "low"}),
        Case("scheduled-in", "job:in", b"i", options={"process_in": 1800, "max_retry": 2}),
        Case("unique", "unique:pending", b'{"u":1}', options={"unique": 3600}),
        Case("unique-nil-payload", "unique:nil", None, options={"unique": 120}),
        Case("unique-empty-payload", "unique:empty", b"", options={"unique": 120}),
        Case(
            "unique-scheduled",
            "unique:sched",
            b"s",
            options={"unique": 600, "process_at": later, "queue": "low"},
        ),
        Case("group", "batch:item", b"1", options={"group": "g1", "queue": "low"}),
        Case("group-second", "batch:item", b"2", {"n": "2"}, {"group": "g1", "queue": "low"}),
        Case("group-unique", "batch:uniq", b"3", options={"group": "g2", "unique": 300}),
        # A future process time wins over the group; the task is merely scheduled
        # (docs/compatibility.md#quirk-scheduled-group-task-is-not-aggregated).
        Case("group-scheduled", "batch:later", b"4", options={"group": "g1", "process_in": 900}),
        Case("group-past", "batch:past", b"5", options={"group": "g3", "process_at": now - 5}),
        Case(
            "headers-multi",
            "traced",
            b"t",
            {"traceparent": "00-4bf92f3577b34da6-00f067aa0ba902b7-01", "tenant": "acme", "l": ""},
        ),
        Case("headers-empty", "untraced", b"u", {}),
        Case(
            "unicode",
            "tâche:envoyer",
            "héllo wörld ✓".encode(),
            {"clé": "välue ✓"},
            {"queue": "fïle"},
        ),
        Case(
            "task-options-merge",
            "merge",
            b"m",
            task_options={"max_retry": 7, "queue": "critical", "timeout": 10, "task_id": "x"},
            options={"queue": "default", "retention": 60},
        ),
    ]
    return [
        c
        if "task_id" in c.options
        else Case(
            c.name,
            c.type,
            c.payload,
            c.headers,
            {**c.options, "task_id": f"go-interop-{c.name}"},
            c.task_options,
        )
        for c in cases
    ]


def _unix(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp() // 1)


def info_json(info: TaskInfo) -> dict[str, Any]:
    """A Python ``TaskInfo`` in the JSON form ``peer_shared.Info`` prints for Go's."""
    return {
        "id": info.id,
        "queue": info.queue,
        "type": info.type,
        "payload": info.payload,
        "headers": dict(info.headers),
        "state": str(info.state),
        "max_retry": info.max_retry,
        "retried": info.retried,
        "last_err": info.last_err,
        "last_failed_at": _unix(info.last_failed_at),
        "timeout": info.timeout.total_seconds(),
        "deadline": _unix(info.deadline),
        "group": info.group,
        "next_process_at": _unix(info.next_process_at),
        "is_orphaned": info.is_orphaned,
        "retention": info.retention.total_seconds(),
        "completed_at": _unix(info.completed_at),
        "result": info.result or None,
    }


def go_info(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Go's peer JSON with byte strings decoded (nil payload → ``b""``, as Python reports)."""
    assert raw is not None
    out = dict(raw)
    out["payload"] = base64.b64decode(raw["payload"] or "")
    out["result"] = base64.b64decode(raw["result"]) if raw["result"] else None
    return out


def without(d: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in names}
