"""Argument and result values: what each type becomes in JSON, and back by annotation."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal, NewType, NotRequired, Optional, TypedDict, Union

import pydantic
import pytest

from asynq._functions.values import ValueProblem, from_json, to_json


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Point:
    x: int
    y: int = 0


@dataclass
class Shape:
    name: str
    points: list[Point]
    color: Color | None = None
    tags: set[str] = field(default_factory=set)


class Customer(pydantic.BaseModel):
    id: int
    email: str
    since: date


class Event(TypedDict):
    name: str
    at: datetime
    seats: NotRequired[int]


UserId = NewType("UserId", int)
PARIS = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "annotation", "data"),
    [
        pytest.param(
            datetime(2026, 5, 1, 8, 30, tzinfo=UTC), datetime, "2026-05-01T08:30:00+00:00"
        ),
        pytest.param(
            datetime(2026, 5, 1, 8, 30, tzinfo=PARIS), datetime, "2026-05-01T08:30:00+01:00"
        ),
        pytest.param(date(2026, 5, 1), date, "2026-05-01"),
        pytest.param(time(8, 30, 15, 500), time, "08:30:15.000500"),
        pytest.param(uuid.UUID(int=5), uuid.UUID, "00000000-0000-0000-0000-000000000005"),
        pytest.param(Decimal("12.50"), Decimal, "12.50"),
        pytest.param(Color.BLUE, Color, "blue"),
        pytest.param(Level.HIGH, Level, 2),
        pytest.param(b"\x00\xff", bytes, "AP8="),
        pytest.param((1, "a"), tuple[int, str], [1, "a"]),
        pytest.param((1, 2, 3), tuple[int, ...], [1, 2, 3]),
        pytest.param({"b", "a"}, set[str], ["a", "b"]),
        pytest.param(frozenset({2, 1}), frozenset[int], [1, 2]),
        pytest.param({1: "one"}, dict[int, str], {"1": "one"}),
        pytest.param({"k": [Point(1)]}, dict[str, list[Point]], {"k": [{"x": 1, "y": 0}]}),
        pytest.param(
            Shape("tri", [Point(0, 1)], Color.RED, {"t"}),
            Shape,
            {"name": "tri", "points": [{"x": 0, "y": 1}], "color": "red", "tags": ["t"]},
        ),
        pytest.param(None, Optional[int], None),  # noqa: UP045 - the old spelling works too
        pytest.param(3, Union[int, str], 3),  # noqa: UP007
        pytest.param("x", int | str, "x"),
        pytest.param("on", Literal["on", "off"], "on"),
        pytest.param(UserId(7), UserId, 7),
        pytest.param(5, Annotated[int, "meta"], 5),
        pytest.param({"a": [1]}, Any, {"a": [1]}),
        pytest.param(2.5, float, 2.5),
        pytest.param([1, 2], Sequence[int], [1, 2]),
        pytest.param(frozenset({"a"}), Set[str], ["a"]),
        pytest.param({"a": 1}, Mapping[str, int], {"a": 1}),
        pytest.param(
            {"name": "launch", "at": datetime(2026, 1, 1, tzinfo=UTC)},
            Event,
            {"name": "launch", "at": "2026-01-01T00:00:00+00:00"},
        ),
        pytest.param(
            Customer(id=1, email="a@b.c", since=date(2020, 1, 2)),
            Customer,
            {"id": 1, "email": "a@b.c", "since": "2020-01-02"},
        ),
    ],
)
def test_round_trip(value: Any, annotation: Any, data: Any) -> None:
    assert to_json(value, "v") == data
    assert from_json(data, annotation, "v") == value


def test_go_forms_are_read() -> None:
    # Go's time.Time marshals RFC 3339 with nanoseconds and "Z"; whole floats come as 3.0.
    assert from_json("2026-01-02T15:04:05.123456789Z", datetime, "t") == datetime(
        2026, 1, 2, 15, 4, 5, 123456, tzinfo=UTC
    )
    assert from_json(3.0, int, "n") == 3
    assert from_json(3, float, "n") == 3.0
    assert from_json("", bytes, "b") == b""


class Order(pydantic.BaseModel):
    """A Pydantic model whose Go struct may leave any of its collections nil."""

    lines: list[Customer]
    tags: set[str]
    totals: dict[str, float]
    checksum: bytes
    groups: list[list[int]]
    notes: list[str] | None
    alias_list: list[str] = pydantic.Field(default_factory=list, alias="aliasList")


class Pair(pydantic.BaseModel):
    pair: tuple[int, int]  # a Go array, never null: null stays an error


@pytest.mark.parametrize(
    ("annotation", "empty"),
    [
        (list[int], []),
        (Sequence[int], []),
        (tuple[int, ...], ()),
        (set[str], set()),
        (Set[str], frozenset()),
        (frozenset[str], frozenset()),
        (dict[str, int], {}),
        (Mapping[str, int], {}),
        (bytes, b""),
        (list, []),
        (dict, {}),
        (Annotated[list[int], "doc"], []),
    ],
)
def test_null_is_the_empty_collection_like_a_go_nil_slice(annotation: Any, empty: Any) -> None:
    value = from_json(None, annotation, "v")
    assert value == empty
    assert type(value) is type(empty)


def test_null_stays_none_for_an_optional_collection() -> None:
    assert from_json(None, list[int] | None, "v") is None
    assert from_json(None, Optional[dict[str, int]], "v") is None  # noqa: UP045
    assert from_json({"name": "n", "points": None}, Shape, "s") == Shape("n", [])


def test_null_collections_inside_a_pydantic_model_are_empty() -> None:
    data = {
        "lines": [{"id": 1, "email": "a@b.c", "since": "2020-01-02"}],
        "tags": None,
        "totals": None,
        "checksum": None,
        "groups": [[1], None],
        "notes": None,
        "aliasList": None,
    }
    order = from_json(data, Order, "o")
    assert (order.tags, order.totals, order.checksum, order.groups) == (set(), {}, b"", [[1], []])
    assert (order.notes, order.alias_list, len(order.lines)) == (None, [], 1)
    assert data["tags"] is None  # the payload's data is left as it was
    assert from_json({**data, "lines": None}, Order, "o").lines == []


@pytest.mark.parametrize(
    ("data", "annotation", "problem"),
    [
        pytest.param("7", int, "expected an integer, got text '7'", id="str-for-int"),
        pytest.param(True, int, "expected an integer, got a boolean True", id="bool-for-int"),
        pytest.param(1, bool, "expected a boolean, got a number 1", id="int-for-bool"),
        pytest.param(None, int, "expected an integer, got null", id="null"),
        pytest.param("purple", Color, "'purple' is not a Color ('red', 'blue')", id="enum"),
        pytest.param("yesterday", date, "'yesterday' is not an ISO 8601 date", id="date"),
        pytest.param("nope", uuid.UUID, "'nope' is not a UUID", id="uuid"),
        pytest.param("1,5", Decimal, "'1,5' is not a decimal number", id="decimal"),
        pytest.param("!!", bytes, "'!!' is not base64", id="bytes"),
        pytest.param({"a": 1}, list[int], "expected an array, got an object", id="list"),
        pytest.param([1, "x"], list[int], "expected an integer, got text 'x'", id="item"),
        pytest.param([1], tuple[int, int], "expected 2 items, got 1", id="tuple-len"),
        pytest.param(None, tuple[int, int], "expected an array, got null", id="tuple-null"),
        pytest.param(None, str, "expected text, got null", id="str-null"),
        pytest.param(
            {"pair": None}, Pair, "pair: Input should be a valid tuple", id="pydantic-pair-null"
        ),
        pytest.param({"x": "1"}, dict[int, int], "key 'x' is not an integer", id="key"),
        pytest.param("maybe", Literal["on", "off"], "expected one of ('on', 'off')", id="literal"),
        pytest.param({"y": 1}, Point, "missing field 'x' of Point", id="field"),
        pytest.param({"x": 1, "z": 2}, Point, "unknown field(s) of Point: z", id="extra"),
        pytest.param([], Point, "expected an object for Point, got an array", id="not-object"),
        pytest.param({"at": "2026-01-01"}, Event, "missing key(s) of Event: name", id="typeddict"),
        pytest.param({"name": "n", "at": "2026-01-01", "x": 1}, Event, "unknown key(s)", id="td-x"),
        pytest.param(
            {"id": "x", "email": "e", "since": "2020-01-01"},
            Customer,
            "id: Input should be a valid integer",
            id="pydantic",
        ),
    ],
)
def test_data_that_does_not_fit_is_named(data: Any, annotation: Any, problem: str) -> None:
    with pytest.raises(ValueProblem) as raised:
        from_json(data, annotation, "arg")
    assert problem in str(raised.value)


def test_nested_problems_name_their_path() -> None:
    with pytest.raises(ValueProblem) as raised:
        from_json({"name": "s", "points": [{"x": 1}, {"x": "2"}]}, Shape, "shape")
    assert raised.value.where == "shape.points[1].x"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(float("inf"), "inf has no JSON form", id="inf"),
        pytest.param(Decimal("NaN"), "NaN has no JSON form", id="decimal-nan"),
        pytest.param(object(), "object has no JSON form", id="object"),
        pytest.param({(1, 2): "x"}, "dict key (1, 2) is neither text nor an integer", id="key"),
        pytest.param(timedelta(1), "timedelta has no JSON form", id="timedelta"),
    ],
)
def test_values_without_a_json_form_are_refused(value: Any, problem: str) -> None:
    with pytest.raises(ValueProblem, match=problem.replace("(", r"\(").replace(")", r"\)")):
        to_json(value, "v")
