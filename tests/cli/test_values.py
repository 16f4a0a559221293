"""Value parsing and rendering of the command line (no Redis)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from asynq._task import TaskState
from asynq.cli._params import parse_go_duration, parse_queue_weight, parse_rfc3339
from asynq.cli._progress import Progress
from asynq.cli._render import format_go_duration, is_printable, jsonable, sprint_bytes, table


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("1m30s", 90),
        ("2h", 7200),
        ("1.5h", 5400),
        ("300ms", 0.3),
        ("1h2m3s4ms", 3723.004),
        ("0", 0),
        ("-1m", -60),
        ("+5s", 5),
        ("10us", 0.00001),
        ("1µs", 0.000001),
        (".5s", 0.5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "1d", "s", "1m30", "abc", "1 m"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


def test_rfc3339() -> None:
    assert parse_rfc3339("2030-01-02T03:04:05Z") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    plus2 = timezone(timedelta(hours=2))
    assert parse_rfc3339("2030-01-02T03:04:05+02:00") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=plus2)
    with pytest.raises(ValueError, match="no zone"):
        parse_rfc3339("2030-01-02T03:04:05")


def test_queue_weights() -> None:
    assert parse_queue_weight("critical=6") == ("critical", 6)
    assert parse_queue_weight("low") == ("low", 1)
    for bad in ("=3", "q=0", "q=x", "q=-1"):
        with pytest.raises(ValueError):
            parse_queue_weight(bad)


def test_go_duration_strings() -> None:
    assert [format_go_duration(s) for s in (0, 45, 90, 3723, -61)] == [
        "0s",
        "45s",
        "1m30s",
        "1h2m3s",
        "-1m1s",
    ]


def test_printable_like_go() -> None:
    assert is_printable(b"hello world")
    assert not is_printable(b"   ")  # all blank
    assert not is_printable(b"a\nb")  # Go's IsPrint rejects control characters
    assert not is_printable(b"\xff")
    assert sprint_bytes(b"\x00") == "non-printable bytes"
    assert sprint_bytes(b"x" * 200).endswith("…")


def test_table_alignment() -> None:
    assert table(["ID", "Type"], [["a", "long-type"], ["bbbb", "t"]]).splitlines() == [
        "ID    Type",
        "--    ----",
        "a     long-type",
        "bbbb  t",
    ]


def test_jsonable_bytes_and_times() -> None:
    out = jsonable(
        {
            "when": datetime(2030, 1, 1, tzinfo=UTC),
            "d": timedelta(seconds=1.5),
            "s": TaskState.RETRY,
            "raw": b"\xff",
        }
    )
    assert out == {"when": "2030-01-01T00:00:00Z", "d": 1.5, "s": "retry", "raw": "/w=="}


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal() -> None:
    stream = _Tty()
    with Progress("Removing", total=2, stream=stream) as p:
        p.advance()
        p.advance()
    text = stream.getvalue()
    assert "Removing [" in text and "1/2" in text and "2/2" in text
    assert text.endswith("\r\x1b[2K")  # the line is cleared at the end


def test_progress_spinner_on_a_terminal() -> None:
    stream = _Tty()
    with Progress("Deleting", stream=stream, interval=0.01):
        pass
    assert "Deleting |" in stream.getvalue()


def test_progress_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress("Removing", total=3, stream=stream) as p:
        p.advance()
    assert not p.enabled
    assert stream.getvalue() == ""
