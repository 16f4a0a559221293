"""Schedule specs: what Go's scheduler (robfig/cron v3) accepts and when it fires.

The tables hold robfig/cron's answers; ``test_*_match_go`` recomputes every row with the real
library (``tests/go/cmd/sched_cron``).
"""

from __future__ import annotations

from datetime import UTC

import pytest

from asynq.cron import CronSchedule, EverySchedule, load_location, parse_spec
from asynq.errors import ValidationError
from tests.helpers import gopeer

F = 1700000000_300000000  # Tue 2023-11-14 22:13:20.3 UTC

# (spec, scheduler location ("" = UTC), from Unix ns, the next three activations)
NEXT = [
    ("* * * * *", "", F, [1700000040, 1700000100, 1700000160]),
    ("*/5 * * * *", "", F, [1700000100, 1700000400, 1700000700]),
    ("0 9 * * 1-5", "", F, [1700038800, 1700125200, 1700211600]),
    ("0 9 * * MON-FRI", "America/New_York", F, [1700056800, 1700143200, 1700229600]),
    ("15 10 1,15 * *", "", F, [1700043300, 1701425700, 1702635300]),
    # both day fields restricted: OR (odd days, or Mondays)
    ("0 0 */2 * MON", "", F, [1700006400, 1700179200, 1700352000]),
    ("0 0 * * SUN", "", F, [1700352000, 1700956800, 1701561600]),
    ("0 12 * JAN-MAR ?", "", F, [1704110400, 1704196800, 1704283200]),
    ("5/15 * * * *", "", F, [1700000400, 1700001300, 1700002200]),
    ("0 0 29 2 *", "", F, [1709164800, 1835395200, 1961625600]),
    ("0 0 30 2 *", "", F, [None]),
    ("@yearly", "", F, [1704067200, 1735689600, 1767225600]),
    ("@annually", "", F, [1704067200, 1735689600, 1767225600]),
    ("@monthly", "", F, [1701388800, 1704067200, 1706745600]),
    ("@weekly", "", F, [1700352000, 1700956800, 1701561600]),
    ("@daily", "", F, [1700006400, 1700092800, 1700179200]),
    ("@midnight", "", F, [1700006400, 1700092800, 1700179200]),
    ("@hourly", "", F, [1700002800, 1700006400, 1700010000]),
    ("@every 1h30m", "", F, [1700005400, 1700010800, 1700016200]),
    ("@every 500ms", "", F, [1700000001, 1700000002, 1700000003]),
    ("@every 1.5s", "", F, [1700000001, 1700000002, 1700000003]),
    ("CRON_TZ=Asia/Tokyo 0 9 * * *", "", F, [1700006400, 1700092800, 1700179200]),
    ("CRON_TZ=Europe/London @daily", "America/New_York", F, [1700006400, 1700092800, 1700179200]),
    ("0 9 * * *", "Europe/Berlin", F, [1700035200, 1700121600, 1700208000]),
    # 02:30 does not exist on 2024-03-10 in New York: that day is skipped
    (
        "TZ=America/New_York 30 2 * * *",
        "",
        1710050000_000000000,
        [1710138600, 1710225000, 1710311400],
    ),
    ("0 2 * * *", "America/New_York", 1710050000_000000000, [1710136800, 1710223200, 1710309600]),
    # 01:30 happens twice on 2024-11-03 in New York: both run
    ("30 1 * * *", "America/New_York", 1730595600_000000000, [1730611800, 1730615400, 1730701800]),
]

INVALID = [
    ("", "empty spec"),
    ("* * * *", "expected exactly 5 fields"),
    ("* * * * * *", "expected exactly 5 fields"),
    ("60 * * * *", "above maximum"),
    ("* 24 * * *", "above maximum"),
    ("* * 0 * *", "below minimum"),
    ("* * * 13 *", "above maximum"),
    ("* * * * 7", "above maximum"),
    ("0 0 L * *", "failed to parse int"),
    ("* * * * 1#2", "failed to parse int"),
    ("1-2-3 * * * *", "too many hyphens"),
    ("1/2/3 * * * *", "too many slashes"),
    ("*/0 * * * *", "should be a positive number"),
    ("5-1 * * * *", "beyond end of range"),
    ("a * * * *", "failed to parse int"),
    ("-1 * * * *", "failed to parse int"),
    ("@every", "unrecognized descriptor"),
    ("@every 5", "failed to parse duration"),
    ("@every x", "failed to parse duration"),
    ("@reboot", "unrecognized descriptor"),
    ("TZ=Nope/Zone * * * * *", "unknown time zone"),
    ("TZ=UTC", "time zone prefix without a schedule"),
]


def _nexts(spec: str, location: str, from_ns: int, count: int) -> list[int | None]:
    schedule = parse_spec(spec)
    loc = load_location(location)
    got: list[int | None] = []
    t = from_ns
    for _ in range(count):
        n = schedule.next(t, loc)
        got.append(n)
        if n is None:
            break
        t = n * 1_000_000_000
    return got


@pytest.mark.parametrize(
    ("spec", "location", "from_ns", "expected"),
    NEXT,
    ids=[f"{s}|{loc}" if loc else s for s, loc, *_ in NEXT],
)
def test_next_activations(
    spec: str, location: str, from_ns: int, expected: list[int | None]
) -> None:
    assert _nexts(spec, location, from_ns, len(expected)) == expected


@pytest.mark.parametrize(("spec", "message"), INVALID, ids=[s or "empty" for s, _ in INVALID])
def test_invalid_specs(spec: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_spec(spec)


def test_parsed_forms() -> None:
    every = parse_spec("@every 1h30m")
    assert every == EverySchedule(delay=5400)
    spec = parse_spec("CRON_TZ=Asia/Tokyo */20 9-10 */2 * ?")
    assert isinstance(spec, CronSchedule)
    assert spec.minutes == {0, 20, 40}
    assert spec.hours == {9, 10}
    assert spec.weekdays_star and not spec.days_star
    assert str(spec.location) == "Asia/Tokyo"


def test_every_counts_from_now_or_aligns_to_the_epoch() -> None:
    every = parse_spec("@every 5s")
    # Go: the delay counts from "now" with its sub-second part dropped
    assert every.next(1700000001_700000000, UTC) == 1700000006
    # aligned: the next multiple of the delay, the same in every process
    assert every.next(1700000001_700000000, UTC, aligned=True) == 1700000005
    assert every.next(1700000005_000000000, UTC, aligned=True) == 1700000010


def test_load_location() -> None:
    assert load_location("") is UTC
    assert load_location("UTC") is UTC
    assert str(load_location("Europe/Paris")) == "Europe/Paris"
    with pytest.raises(ValidationError, match="Local"):
        load_location("Local")


@pytest.mark.interop
def test_next_activations_match_go() -> None:
    cases = [{"spec": s, "location": loc, "from_ns": f, "count": len(e)} for s, loc, f, e in NEXT]
    got = gopeer.run_go_json("sched_cron", input=cases)
    assert [g.get("next") for g in got] == [e for *_, e in NEXT]


@pytest.mark.interop
def test_invalid_specs_match_go() -> None:
    cases = [{"spec": s, "location": "", "from_ns": F, "count": 1} for s, _ in INVALID]
    got = gopeer.run_go_json("sched_cron", input=cases)
    assert [s for (s, _), g in zip(INVALID, got, strict=True) if "err" not in g] == []
