"""Go text forms the scheduler writes: Duration.String, ParseDuration, %q, UnixDate, Option.String.

Each table holds Go's real output; ``test_*_match_go`` re-derives every row from Go v0.26.0
(``tests/go/cmd/sched_fmt``) so the tables cannot drift from Go.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from asynq._base import gofmt
from tests.helpers import gopeer

S = 1_000_000_000
MAX = (1 << 63) - 1
MIN = -(1 << 63)

DURATIONS = [
    (0, "0s"),
    (1, "1ns"),
    (999, "999ns"),
    (1000, "1µs"),
    (1500, "1.5µs"),
    (999_999, "999.999µs"),
    (1_000_000, "1ms"),
    (1_500_000, "1.5ms"),
    (500_000_000, "500ms"),
    (999_999_999, "999.999999ms"),
    (S, "1s"),
    (1_500_000_000, "1.5s"),
    (30 * S, "30s"),
    (60 * S - 1, "59.999999999s"),
    (60 * S, "1m0s"),
    (90 * S, "1m30s"),
    (30 * 60 * S, "30m0s"),
    (3600 * S, "1h0m0s"),
    (5400 * S, "1h30m0s"),
    (86400 * S, "24h0m0s"),
    (360061 * S + 1, "100h1m1.000000001s"),
    (-1_500_000_000, "-1.5s"),
    (-3600 * S, "-1h0m0s"),
    (-1, "-1ns"),
    (MAX, "2562047h47m16.854775807s"),
    (MIN, "-2562047h47m16.854775808s"),
]

PARSE_OK = [
    ("0", 0),
    ("-0", 0),
    ("1h", 3600 * S),
    ("1.5h", 5400 * S),
    ("1h30m", 5400 * S),
    ("-2m", -120 * S),
    ("+3s", 3 * S),
    (".5s", S // 2),
    ("1.s", S),
    ("300ms", 300_000_000),
    ("1us", 1000),
    ("1µs", 1000),
    ("1μs", 1000),
    ("7ns", 7),
    ("2h45m0.5s", 9900 * S + S // 2),
    ("1.0000000000000000001s", S),
    ("0.333333333333h", 1_199_999_999_998),
    ("9223372036854775807ns", MAX),
    ("-9223372036854775808ns", MIN),
    ("2562047h", 2562047 * 3600 * S),
]

PARSE_BAD = [
    ("", 'time: invalid duration ""'),
    ("1", 'time: missing unit in duration "1"'),
    ("abc", 'time: invalid duration "abc"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    ("-", 'time: invalid duration "-"'),
    (".s", 'time: invalid duration ".s"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("2562048h", 'time: invalid duration "2562048h"'),
]

QUOTES = [
    ("critical", '"critical"'),
    ("", '""'),
    ('a"b', '"a\\"b"'),
    ("a\\b", '"a\\\\b"'),
    ("tab\there\n", '"tab\\there\\n"'),
    ("\a\b\f\r\v", '"\\a\\b\\f\\r\\v"'),
    ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
    ("é 日本", '"é 日本"'),
    ("\u00a0", '"\\u00a0"'),
    ("\u200b\u2028", '"\\u200b\\u2028"'),
    ("\U0001f600", '"\U0001f600"'),
    ("\U000e0001", '"\\U000e0001"'),
    ("\ufffd", '"\ufffd"'),
    ("\x85", '"\\u0085"'),
]

UNQUOTES = [
    ('"\\101\\x41\\u00e9\\U0001F600"', "AAé\U0001f600"),
    ("`raw \\n`", "raw \\n"),
    ('"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', '\a\b\f\n\r\t\v\\"'),
]

UNQUOTE_BAD = ['"bad', '"\\q"', '"a"b"', '"\\\'"', '"\\400"', '"\\ud800"', "plain", '"\n"']

UNIX_DATES = [
    (0, "Thu Jan  1 00:00:00 UTC 1970"),
    (1700000000, "Tue Nov 14 22:13:20 UTC 2023"),
    (951782400, "Tue Feb 29 00:00:00 UTC 2000"),
    (-62135596800, "Mon Jan  1 00:00:00 UTC 0001"),
    (253402300799, "Fri Dec 31 23:59:59 UTC 9999"),
]

# (python name, python value, Go case for sched_fmt, Go's String())
OPTIONS = [
    ("max_retry", 3, {"name": "MaxRetry", "n": 3}, "MaxRetry(3)"),
    ("max_retry", -1, {"name": "MaxRetry", "n": -1}, "MaxRetry(0)"),
    ("queue", "critical", {"name": "Queue", "s": "critical"}, 'Queue("critical")'),
    ("queue", 'we"ird q', {"name": "Queue", "s": 'we"ird q'}, 'Queue("we\\"ird q")'),
    ("timeout", 1800, {"name": "Timeout", "ns": 1800 * S}, "Timeout(30m0s)"),
    ("timeout", 1.5, {"name": "Timeout", "ns": 1_500_000_000}, "Timeout(1.5s)"),
    (
        "timeout",
        timedelta(milliseconds=500),
        {"name": "Timeout", "ns": 500_000_000},
        "Timeout(500ms)",
    ),
    ("unique", timedelta(hours=1), {"name": "Unique", "ns": 3600 * S}, "Unique(1h0m0s)"),
    ("process_in", 600, {"name": "ProcessIn", "ns": 600 * S}, "ProcessIn(10m0s)"),
    ("retention", timedelta(days=1), {"name": "Retention", "ns": 86400 * S}, "Retention(24h0m0s)"),
    ("task_id", "abc", {"name": "TaskID", "s": "abc"}, 'TaskID("abc")'),
    ("group", "g1", {"name": "Group", "s": "g1"}, 'Group("g1")'),
    (
        "deadline",
        1700000000,
        {"name": "Deadline", "unix": 1700000000},
        "Deadline(Tue Nov 14 22:13:20 UTC 2023)",
    ),
    (
        "deadline",
        datetime(2024, 3, 5, 9, 7, 1, 999_000, tzinfo=timezone(timedelta(hours=9))),
        {"name": "Deadline", "unix": 1709597221},
        "Deadline(Tue Mar  5 00:07:01 UTC 2024)",
    ),
    (
        "process_at",
        1700000000.9,
        {"name": "ProcessAt", "unix": 1700000000},
        "ProcessAt(Tue Nov 14 22:13:20 UTC 2023)",
    ),
]


@pytest.mark.parametrize(("ns", "text"), DURATIONS, ids=[t for _, t in DURATIONS])
def test_format_duration(ns: int, text: str) -> None:
    assert gofmt.format_duration(ns) == text


@pytest.mark.parametrize(("text", "ns"), PARSE_OK, ids=[t for t, _ in PARSE_OK])
def test_parse_duration(text: str, ns: int) -> None:
    assert gofmt.parse_duration(text) == ns


@pytest.mark.parametrize(("text", "message"), PARSE_BAD, ids=[t or "empty" for t, _ in PARSE_BAD])
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        gofmt.parse_duration(text)


@pytest.mark.parametrize(("ns", "text"), DURATIONS[:-2], ids=[t for _, t in DURATIONS[:-2]])
def test_duration_round_trip(ns: int, text: str) -> None:
    assert gofmt.parse_duration(gofmt.format_duration(ns)) == ns


@pytest.mark.parametrize(("raw", "quoted"), QUOTES, ids=[q for _, q in QUOTES])
def test_quote_and_back(raw: str, quoted: str) -> None:
    assert gofmt.quote(raw) == quoted
    assert gofmt.unquote(quoted) == raw


@pytest.mark.parametrize(("quoted", "raw"), UNQUOTES, ids=[q for q, _ in UNQUOTES])
def test_unquote(quoted: str, raw: str) -> None:
    assert gofmt.unquote(quoted) == raw


@pytest.mark.parametrize("quoted", UNQUOTE_BAD)
def test_unquote_rejects(quoted: str) -> None:
    with pytest.raises(ValueError, match="invalid syntax"):
        gofmt.unquote(quoted)


@pytest.mark.parametrize(("unix", "text"), UNIX_DATES, ids=[t for _, t in UNIX_DATES])
def test_unix_date(unix: int, text: str) -> None:
    assert gofmt.format_unix_date(unix) == text
    assert gofmt.parse_unix_date(text) == datetime.fromtimestamp(unix, UTC)


def test_parse_unix_date_zones() -> None:
    assert gofmt.parse_unix_date("Tue Nov 14 23:13:20 +0100 2023").timestamp() == 1700000000
    # Go reads an abbreviation other than its local zone's as UTC+0.
    assert gofmt.parse_unix_date("Tue Nov 14 22:13:20 CET 2023").timestamp() == 1700000000
    with pytest.raises(ValueError, match="UnixDate"):
        gofmt.parse_unix_date("2023-11-14T22:13:20Z")


@pytest.mark.parametrize(
    ("name", "value", "text"), [(n, v, t) for n, v, _, t in OPTIONS], ids=[t for *_, t in OPTIONS]
)
def test_option_string(name: str, value: object, text: str) -> None:
    assert gofmt.option_string(name, value) == text


def test_option_strings_skip_unset_and_goless_options() -> None:
    opts = {"queue": "q", "timeout": None, "headers": {"k": "v"}, "max_retry": 2}
    assert gofmt.option_strings(opts) == ['Queue("q")', "MaxRetry(2)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MaxRetry(3)", ("max_retry", 3)),
        ('Queue("crit)ical")', None),  # Go takes the text up to the first ")": unparsable
        ('Queue("critical")', ("queue", "critical")),
        ("Timeout(1h30m0s)", ("timeout", timedelta(minutes=90))),
        ("Unique(500ms)", ("unique", timedelta(milliseconds=500))),
        ("ProcessIn(10m0s)", ("process_in", timedelta(minutes=10))),
        ("Retention(24h0m0s)", ("retention", timedelta(days=1))),
        (
            "Deadline(Tue Nov 14 22:13:20 UTC 2023)",
            ("deadline", datetime.fromtimestamp(1700000000, UTC)),
        ),
        ("ProcessAt(Thu Jan  1 00:00:00 UTC 1970)", ("process_at", datetime.fromtimestamp(0, UTC))),
        ('TaskID("abc")', ("task_id", "abc")),
        ('Group("g1")', ("group", "g1")),
        ("Header(x)", None),
        ("no parens", None),
        ("MaxRetry(x)", None),
    ],
)
def test_parse_option(text: str, expected: tuple[str, object] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            gofmt.parse_option(text)
    else:
        assert gofmt.parse_option(text) == expected


def test_option_strings_parse_back() -> None:
    for name, value, _, text in OPTIONS:
        if name == "max_retry" and value < 0:  # type: ignore[operator]
            continue  # Go clamps a negative count to 0
        parsed_name, _parsed = gofmt.parse_option(text)
        assert parsed_name == name
        assert gofmt.option_string(parsed_name, _parsed) == text


def test_go_inspector_option_names() -> None:
    assert "TaskID" not in gofmt.GO_INSPECTOR_OPTIONS
    assert "Group" not in gofmt.GO_INSPECTOR_OPTIONS
    assert set(gofmt.OPTION_NAMES.values()) - gofmt.GO_INSPECTOR_OPTIONS == {"TaskID", "Group"}


# --- the same tables, produced by Go ----------------------------------------------------------


@pytest.mark.interop
def test_tables_match_go() -> None:
    cases: list[dict[str, object]] = []
    expected: list[dict[str, object]] = []
    for ns, text in DURATIONS:
        cases.append({"kind": "duration", "ns": ns})
        expected.append({"out": text})
    for text, ns in PARSE_OK:
        cases.append({"kind": "parse_duration", "s": text})
        expected.append({"ns": ns})
    for text, message in PARSE_BAD:
        cases.append({"kind": "parse_duration", "s": text})
        expected.append({"err": message})
    for raw, quoted in QUOTES:
        cases.append({"kind": "quote", "s": raw})
        expected.append({"out": quoted})
        cases.append({"kind": "unquote", "s": quoted})
        expected.append({"out": raw})
    for quoted, raw in UNQUOTES:
        cases.append({"kind": "unquote", "s": quoted})
        expected.append({"out": raw})
    for unix, text in UNIX_DATES:
        cases.append({"kind": "unix_date", "unix": unix})
        expected.append({"out": text})
    for *_, go_case, text in OPTIONS:
        cases.append({"kind": "option", **go_case})
        expected.append({"out": text})
    got = gopeer.run_go_json("sched_fmt", input=cases)
    mismatches = [
        {**case, "go": g, "table": e}
        for case, g, e in zip(cases, got, expected, strict=True)
        if g != e
    ]
    assert mismatches == []


@pytest.mark.interop
def test_unquote_errors_match_go() -> None:
    got = gopeer.run_go_json("sched_fmt", input=[{"kind": "unquote", "s": q} for q in UNQUOTE_BAD])
    assert all("err" in g for g in got), got
