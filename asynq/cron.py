"""Schedule specs as Go asynq's Scheduler reads them (robfig/cron v3's standard parser).

Accepted specs:

- five fields ``minute hour day-of-month month day-of-week`` (no seconds field). Each field is
  a comma list of ``*``, ``?``, ``N``, ``N-M``, optionally followed by ``/step``; ``N/step``
  means ``N-max/step``. Months and weekdays also take three-letter English names
  (``JAN``..``DEC``, ``SUN``..``SAT``, any case). Weekdays run 0 (Sunday) to 6.
- descriptors ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily``
  (``@midnight``) and ``@hourly``;
- ``@every <Go duration>``, e.g. ``@every 1h30m``: a constant delay, truncated to whole
  seconds, at least one second;
- any of the above after a ``CRON_TZ=Area/City `` or ``TZ=Area/City `` prefix, which sets
  the time zone of that spec. Without it, the scheduler's location applies (UTC by default).

As in robfig/cron, day-of-month and day-of-week combine with OR when both are restricted and
with AND when either is ``*`` (or ``?``); a stepped star such as ``*/2`` counts as restricted.
A schedule with no activation within about five years (``0 0 30 2 *``) never fires. Extensions
that other cron dialects accept (a seconds field, ``L``, ``W``, ``#``, weekday 7) are refused,
because Go's scheduler refuses them too.

Activation times come from croniter, fed with the fully expanded fields, so the rules above
(and not croniter's own dialect) decide what a spec means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from asynq._base import gofmt
from asynq.errors import ValidationError

__all__ = ["CronSchedule", "EverySchedule", "Schedule", "load_location", "parse_spec"]

_NS = 1_000_000_000
#: robfig/cron gives up looking for an activation after this many years.
_YEAR_LIMIT = 5
#: How many croniter candidates may be skipped as daylight-saving artefacts in one search.
_MAX_SKIPS = 8

_MONTH_NAMES = {
    name: i
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DOW_NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_INT_RE = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class _Bounds:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_MINUTE = _Bounds("minute", 0, 59)
_HOUR = _Bounds("hour", 0, 23)
_DOM = _Bounds("day of month", 1, 31)
_MONTH = _Bounds("month", 1, 12, _MONTH_NAMES)
_DOW = _Bounds("day of week", 0, 6, _DOW_NAMES)


def load_location(name: str) -> tzinfo:
    """The time zone called ``name`` (an IANA name such as ``Europe/Paris``; ``""``/``UTC``).

    Raises:
        ValidationError: for an unknown zone, and for ``Local``, which would mean different
            zones on different machines.
    """
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        raise ValidationError('location "Local" is not supported; name the zone (e.g. "UTC")')
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone location {name!r}") from exc


def _number(text: str, bounds: _Bounds, expr: str) -> int:
    if bounds.names is not None and text.lower() in bounds.names:
        return bounds.names[text.lower()]
    if not _INT_RE.fullmatch(text):
        raise ValidationError(f"failed to parse int from {text!r} in {bounds.name} {expr!r}")
    value = int(text)
    if value < 0:
        raise ValidationError(f"negative number ({value}) not allowed: {expr!r}")
    return value


def _range(expr: str, bounds: _Bounds) -> tuple[set[int], bool]:
    """The values of one ``range[/step]`` expression and whether it sets the "star" flag."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    star = False
    if low_high[0] in ("*", "?"):
        start, end, star = bounds.low, bounds.high, True
    else:
        start = _number(low_high[0], bounds, expr)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _number(low_high[1], bounds, expr)
        else:
            raise ValidationError(f"too many hyphens: {expr!r}")
    step = 1
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], _Bounds("step", 0, 0), expr)
        if len(low_high) == 1:
            end = bounds.high  # "N/step" means "N-max/step"
        if step > 1:
            star = False
    elif len(range_and_step) > 2:
        raise ValidationError(f"too many slashes: {expr!r}")
    if start < bounds.low:
        raise ValidationError(
            f"beginning of range ({start}) below minimum ({bounds.low}): {expr!r}"
        )
    if end > bounds.high:
        raise ValidationError(f"end of range ({end}) above maximum ({bounds.high}): {expr!r}")
    if start > end:
        raise ValidationError(f"beginning of range ({start}) beyond end of range ({end}): {expr!r}")
    if step == 0:
        raise ValidationError(f"step of range should be a positive number: {expr!r}")
    return set(range(start, end + 1, step)), star


def _field(text: str, bounds: _Bounds) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in (part for part in text.split(",") if part):
        got, got_star = _range(expr, bounds)
        values |= got
        star = star or got_star
    return frozenset(values), star


def _cron_field(values: frozenset[int], wildcard: bool) -> str:
    return "*" if wildcard else ",".join(str(v) for v in sorted(values))


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A five-field (or descriptor) schedule.

    Attributes:
        minutes, hours, days, months, weekdays: the allowed values of each field.
        days_star, weekdays_star: whether that day field was written with ``*``/``?``
            (unstepped), which makes the day fields combine with AND instead of OR.
        location: the zone of a ``CRON_TZ=``/``TZ=`` prefix, or ``None`` for the scheduler's.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool = False
    weekdays_star: bool = False
    location: tzinfo | None = None

    def _expression(self) -> str:
        return " ".join(
            (
                _cron_field(self.minutes, len(self.minutes) == 60),
                _cron_field(self.hours, len(self.hours) == 24),
                _cron_field(self.days, self.days_star),
                _cron_field(self.months, len(self.months) == 12),
                _cron_field(self.weekdays, self.weekdays_star),
            )
        )

    def next(self, after_ns: int, location: tzinfo = UTC, *, aligned: bool = False) -> int | None:
        """The first activation strictly after ``after_ns``, in whole Unix seconds.

        Args:
            after_ns: Unix nanoseconds to search from.
            location: the scheduler's zone, used when the spec has no ``CRON_TZ=`` prefix.
            aligned: ignored (cron activations are the same on every machine anyway).

        Returns:
            Unix seconds, or ``None`` when no activation exists within about five years.
        """
        if not (self.minutes and self.hours and self.days and self.months and self.weekdays):
            return None
        zone = self.location or location
        start = datetime.fromtimestamp(after_ns // _NS, zone)
        try:
            it = croniter(
                self._expression(),
                start,
                day_or=True,
                max_years_between_matches=_YEAR_LIMIT,
            )
            for _ in range(_MAX_SKIPS):
                nxt = round(float(it.get_next(float)))
                if self._matches(datetime.fromtimestamp(nxt, zone)):
                    return nxt
        except CroniterBadDateError:
            pass
        return None

    def _matches(self, local: datetime) -> bool:
        """Whether the wall-clock time ``local`` is one the fields allow.

        croniter moves a time that falls in a daylight-saving gap (02:30 on a spring-forward
        night) to just after the gap; Go's scheduler skips it. Checking the wall clock of each
        candidate and skipping those that do not match gives Go's behaviour.
        """
        if not (
            local.minute in self.minutes and local.hour in self.hours and local.month in self.months
        ):
            return False
        dom = local.day in self.days
        dow = (local.weekday() + 1) % 7 in self.weekdays
        if self.days_star or self.weekdays_star:
            return dom and dow
        return dom or dow


@dataclass(frozen=True, slots=True)
class EverySchedule:
    """``@every <duration>``: a constant delay of :attr:`delay` whole seconds."""

    delay: int

    def next(self, after_ns: int, location: tzinfo = UTC, *, aligned: bool = False) -> int:
        """The next activation after ``after_ns`` (Unix ns), in whole Unix seconds.

        Unaligned (Go's behaviour) the delay counts from ``after_ns`` with its sub-second part
        dropped, so activations land on whole seconds. ``aligned=True`` puts activations on
        multiples of the delay since the Unix epoch instead, so that every process computes
        the same activation times whenever it started.
        """
        seconds = after_ns // _NS
        if aligned:
            return (seconds // self.delay + 1) * self.delay
        return seconds + self.delay


#: A parsed spec.
Schedule = CronSchedule | EverySchedule


def _descriptor(spec: str, loc: tzinfo | None) -> Schedule:
    all_days = frozenset(range(1, 32))
    all_dow = frozenset(range(7))
    all_months = frozenset(range(1, 13))
    zero = frozenset({0})
    if spec in ("@yearly", "@annually"):
        return CronSchedule(zero, zero, frozenset({1}), frozenset({1}), all_dow, False, True, loc)
    if spec == "@monthly":
        return CronSchedule(zero, zero, frozenset({1}), all_months, all_dow, False, True, loc)
    if spec == "@weekly":
        return CronSchedule(zero, zero, all_days, all_months, zero, True, False, loc)
    if spec in ("@daily", "@midnight"):
        return CronSchedule(zero, zero, all_days, all_months, all_dow, True, True, loc)
    if spec == "@hourly":
        hours = frozenset(range(24))
        return CronSchedule(zero, hours, all_days, all_months, all_dow, True, True, loc)
    if spec.startswith("@every "):
        try:
            ns = gofmt.parse_duration(spec[len("@every ") :])
        except ValueError as exc:
            raise ValidationError(f"failed to parse duration {spec!r}: {exc}") from exc
        ns = max(ns, gofmt.SECOND)
        return EverySchedule(delay=ns // gofmt.SECOND)
    raise ValidationError(f"unrecognized descriptor: {spec!r}")


def parse_spec(spec: str) -> Schedule:
    """Parse a schedule spec (see the module docstring).

    Raises:
        ValidationError: if Go's scheduler would refuse ``spec``, with robfig/cron's reason.
    """
    if not isinstance(spec, str):
        raise ValidationError(f"cron spec must be a str, not {type(spec).__name__}")
    if not spec:
        raise ValidationError("empty spec string")
    loc: tzinfo | None = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        if space < 0:
            raise ValidationError(f"time zone prefix without a schedule: {spec!r}")
        loc = load_location(spec[spec.index("=") + 1 : space])
        spec = spec[space:].strip()
    if spec.startswith("@"):
        return _descriptor(spec, loc)
    fields = spec.split()
    if len(fields) != 5:
        raise ValidationError(f"expected exactly 5 fields, found {len(fields)}: {spec!r}")
    minutes, _ = _field(fields[0], _MINUTE)
    hours, _ = _field(fields[1], _HOUR)
    days, days_star = _field(fields[2], _DOM)
    months, _ = _field(fields[3], _MONTH)
    weekdays, weekdays_star = _field(fields[4], _DOW)
    return CronSchedule(minutes, hours, days, months, weekdays, days_star, weekdays_star, loc)
