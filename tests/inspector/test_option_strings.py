"""Scheduler option strings: which ones Go's Inspector keeps and how it prints them back.

Every string is written into a scheduler entry and read by Go's ``SchedulerEntries`` and by
the Python Inspector; the kept options (and their order) must be the same.
"""

from __future__ import annotations

import pytest

from asynq._broker.ops.inspect_option_strings import (
    format_go_duration,
    normalize,
    parse_go_duration,
)
from tests.helpers import seed
from tests.inspector._support import from_go, go_call, now_sec
from tests.inspector.conftest import NOW_SEC

OPTION_STRINGS = [
    # kept
    'Queue("critical")',
    'Queue("with \\"quotes\\" and \\\\")',
    'Queue("tab\\there")',
    'Queue("\\u00e9t\\u00e9")',
    'Queue("été")',
    "Queue(`raw`)",
    "Queue('x')",
    'Queue("")',
    "MaxRetry(0)",
    "MaxRetry(-3)",
    "MaxRetry(+7)",
    "MaxRetry(9223372036854775807)",
    "Timeout(0)",
    "Timeout(0s)",
    "Timeout(90s)",
    "Timeout(1.5h)",
    "Timeout(.5s)",
    "Timeout(1h2m3s4ms5us6ns)",
    "Timeout(-1m)",
    "Timeout(1500ms)",
    "Timeout(2µs)",
    "Unique(24h)",
    "ProcessIn(1.000000001s)",
    "Retention(2562047h47m16.854775807s)",
    "Deadline(Fri Jan  1 00:00:00 UTC 2100)",
    "Deadline(Mon Jan 1 00:00:00 UTC 2100)",
    "ProcessAt(Tue Feb 29 23:59:59 UTC 2028)",
    "ProcessAt(Sun Mar  8 09:05:00 CET 2026)",
    "Deadline(Wed Jul  4 7:00:00 PST 2029)",
    "MaxRetry(5) trailing",
    # dropped
    'TaskID("abc")',
    'Group("g")',
    "Queue(critical)",
    'Queue("unterminated)',
    "Queue('ab')",
    "MaxRetry(1.5)",
    "MaxRetry(9223372036854775808)",
    "MaxRetry()",
    "Timeout(10)",
    "Timeout(1x)",
    "Timeout(.s)",
    "Timeout(2562048h)",
    "Deadline(2100-01-01)",
    "Deadline(Mon Feb 30 00:00:00 UTC 2100)",
    "Deadline(Mon Jan  1 24:00:00 UTC 2100)",
    "Whatever(1)",
    "()",
]


@pytest.mark.interop
def test_kept_option_strings_match_go(make_inspector, redis_url, r):
    now = now_sec()
    entry = seed.scheduler_entry(options=OPTION_STRINGS)
    seed.scheduler(r, "h:1:opts", [entry], expires_at=now + 60)
    go = go_call(redis_url, "SchedulerEntries")
    (go_entry,) = from_go("SchedulerEntries", go["ok"])
    (py_entry,) = make_inspector(redis_url).scheduler_entries()
    assert py_entry.opts == go_entry.opts
    assert len(py_entry.opts) == 30


def test_strings_that_crash_go_are_dropped(insp, r):
    # Go panics on an option string without "("; Python drops it
    # (docs/compatibility.md#quirk-option-string-without-parenthesis).
    entry = seed.scheduler_entry(options=["Queue", 'Queue("ok")', "free text", ""])
    seed.scheduler(r, "h:1:bad", [entry], expires_at=NOW_SEC + 60)
    assert [e.opts for e in insp.scheduler_entries()] == [['Queue("ok")']]


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("1h", 3_600_000_000_000),
        ("1.5s", 1_500_000_000),
        ("-2m3s", -123_000_000_000),
        ("3us", 3_000),
        ("1", None),
        ("", None),
        ("s", None),
        ("1hh", None),
    ],
)
def test_parse_go_duration(text, ns):
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (999, "999ns"),
        (1_500, "1.5µs"),
        (1_500_000, "1.5ms"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (-1_000_000_001, "-1.000000001s"),
    ],
)
def test_format_go_duration(ns, text):
    assert format_go_duration(ns) == text


def test_normalize_examples():
    assert normalize("Timeout(90s)") == "Timeout(1m30s)"
    assert normalize("Queue(`raw`)") == 'Queue("raw")'
    assert normalize("Deadline(Mon Jan 1 00:00:00 UTC 2100)") == (
        "Deadline(Fri Jan  1 00:00:00 UTC 2100)"
    )
    assert normalize('Group("g")') is None
    assert normalize("no parenthesis") is None
