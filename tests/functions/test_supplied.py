"""The core's hook for parameters a framework supplies at run time, with a source of this
module's own (no web framework): claimed parameters are not JSON arguments, their values are
made for each run and torn down after it (seeing the task's error, never hiding it), a refused
parameter fails the decoration, and a source added after the decoration still counts."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest

import asynq


class Counter:
    """The value the source supplies: a fresh one per run."""

    made = 0

    def __init__(self) -> None:
        Counter.made += 1
        self.number = Counter.made


class Supplier:
    def __init__(self, names: list[str], log: list[str], swallow: bool) -> None:
        self.names = names
        self.log = log
        self.swallow = swallow

    @asynccontextmanager
    async def supply(self, task: asynq.ActiveTask) -> AsyncIterator[Mapping[str, Any]]:
        self.log.append(f"open {task.type}")
        try:
            yield {name: Counter() for name in self.names}
        except Exception as exc:
            self.log.append(f"saw {exc}")
            if not self.swallow:
                raise
        finally:
            self.log.append("closed")


class CounterSource:
    """Supplies the parameters annotated ``Annotated[Counter, "supplied"]``; refuses a
    parameter named ``refused``."""

    def __init__(self, *, swallow: bool = False) -> None:
        self.log: list[str] = []
        self.swallow = swallow

    def claims(self, parameter: inspect.Parameter, annotation: Any) -> bool:
        return "supplied" in getattr(annotation, "__metadata__", ())

    def prepare(
        self,
        fn: Callable[..., Any],
        type_name: str,
        parameters: Sequence[asynq.ClaimedParameter],
    ) -> Supplier:
        for claimed in parameters:
            if claimed.name == "refused":
                raise asynq.ValidationError(f'task "{type_name}": parameter "refused": no')
        return Supplier([c.name for c in parameters], self.log, self.swallow)


Supplied = Annotated[Counter, "supplied"]


@pytest.fixture
def source() -> Iterator[CounterSource]:
    source = CounterSource()
    asynq.add_parameter_source(source)
    yield source
    asynq.remove_parameter_source(source)


def test_claimed_parameters_are_supplied_per_run_not_sent(source: CounterSource) -> None:
    registry = asynq.TaskRegistry()

    @registry.task("supplied:add")
    def add(task: asynq.ActiveTask, a: Supplied, n: int, b: Supplied, *, m: int = 0) -> list[int]:
        return [a.number, b.number, n, m, len(task.id)]

    assert json.loads(add.task(5, m=1).payload) == {"n": 5, "m": 1}
    with asynq.eager():
        first = json.loads(add.enqueue(5, m=1).result or b"")
        second = json.loads(add.enqueue(n=6).result or b"")
    assert first[2:] == [5, 1, 36] and second[2:] == [6, 0, 36]
    assert second[0] > first[1]  # new values for every run
    assert source.log == ["open supplied:add", "closed"] * 2


def test_teardown_sees_the_error_and_cannot_swallow_it() -> None:
    source = CounterSource(swallow=True)
    asynq.add_parameter_source(source)
    try:
        registry = asynq.TaskRegistry()

        @registry.task("supplied:fail")
        async def fail(c: Supplied) -> None:
            raise ValueError("boom")

        with asynq.eager(), pytest.raises(ValueError, match="boom"):
            fail.enqueue()
    finally:
        asynq.remove_parameter_source(source)
    assert source.log == ["open supplied:fail", "saw boom", "closed"]


def test_a_refused_parameter_fails_the_decoration(source: CounterSource) -> None:
    registry = asynq.TaskRegistry()
    with pytest.raises(asynq.ValidationError, match='task "supplied:no": parameter "refused"'):

        @registry.task("supplied:no")
        def no(refused: Supplied) -> None: ...


def test_a_source_added_after_the_decoration_counts_at_the_next_use() -> None:
    registry = asynq.TaskRegistry()

    @registry.task("supplied:late")
    async def late(n: int, c: Supplied) -> int:
        return n + c.number

    with pytest.raises(asynq.ValidationError, match="missing a required argument: 'c'"):
        late.task(1)  # no source yet: a JSON argument like any other
    source = CounterSource()
    asynq.add_parameter_source(source)
    try:
        assert json.loads(late.task(1).payload) == {"n": 1}
        with asynq.eager():
            assert late.enqueue(1).result is not None
    finally:
        asynq.remove_parameter_source(source)
    assert source.log == ["open supplied:late", "closed"]


def test_a_source_needs_both_methods() -> None:
    with pytest.raises(asynq.ValidationError, match="needs claims\\(\\) and prepare\\(\\)"):
        asynq.add_parameter_source(object())  # type: ignore[arg-type]
