"""Parameters a framework supplies at run time: :class:`ParameterSource`.

Most parameters of a task function are its JSON arguments: the producer sends them, the worker
decodes them. Some are not: a web framework's dependencies (FastAPI's ``Depends(...)``) are
made in the worker, for each run, the way the framework makes them for a request. A
*parameter source* is the framework's side of that contract; asynq knows no framework:

- :meth:`ParameterSource.claims` says which parameters it supplies. Claimed parameters are
  left out of the JSON arguments: ``enqueue`` does not take them (their defaults keep type
  checkers happy), the payload never holds them, a Go producer does not write them.
- :meth:`ParameterSource.prepare` checks them, when the task function's layout is made (at
  decoration when the source is registered by then, else at the first enqueue or run), and
  returns a :class:`ParameterSupplier`. A parameter it cannot supply is refused with a
  :class:`~asynq.ValidationError` naming the task and the parameter.
- For each run, after the payload decoded, the worker (and :func:`asynq.eager`) enters
  :meth:`ParameterSupplier.supply` on the event loop and calls the function with the values it
  yields. The context manager exits once the function returned or raised (the exception is
  passed to ``__aexit__``, so teardown sees it), before the result is stored: an error raised
  by the teardown fails the task. The function's own exception is the task's outcome even when
  a supplier would swallow it.

Sources are process-wide: :func:`add_parameter_source` (an adapter does it when imported) and
:func:`remove_parameter_source`. A task function decorated before its source was added is laid
out again at its next use, so import order does not matter. An installed adapter's source is
also registered without the adapter being imported, when a task function's parameter carries an
object of its framework (:mod:`asynq._functions.installed_sources`).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from asynq.errors import ValidationError
from asynq.server._active_task import ActiveTask

__all__ = [
    "ClaimedParameter",
    "ParameterSource",
    "ParameterSupplier",
    "add_parameter_source",
    "parameter_sources",
    "remove_parameter_source",
    "supplying",
]


@dataclass(frozen=True, slots=True)
class ClaimedParameter:
    """A parameter a source claimed, with its resolved annotation (``Annotated`` metadata
    kept; the annotation's text when it does not resolve)."""

    parameter: inspect.Parameter
    annotation: Any

    @property
    def name(self) -> str:
        """The parameter's name (the keyword the function is called with)."""
        return self.parameter.name


@runtime_checkable
class ParameterSupplier(Protocol):
    """Supplies the values of the parameters a source claimed in one task function."""

    def supply(self, task: ActiveTask) -> AbstractAsyncContextManager[Mapping[str, Any]]:
        """The values for one run of ``task``, by parameter name; exited after the call.

        Raises:
            Exception: whatever making a value raised; the task fails (and is retried) with it.
        """
        ...


@runtime_checkable
class ParameterSource(Protocol):
    """A framework's supply of task-function parameters that are not JSON arguments."""

    def claims(self, parameter: inspect.Parameter, annotation: Any) -> bool:
        """Whether this source supplies ``parameter`` (``*args`` and ``**kwargs`` are never
        offered). ``annotation``: as in :class:`ClaimedParameter`."""
        ...

    def prepare(
        self, fn: Callable[..., Any], type_name: str, parameters: Sequence[ClaimedParameter]
    ) -> ParameterSupplier:
        """Check the parameters of ``fn`` this source claimed; return their supplier.

        Raises:
            ValidationError: a parameter cannot be supplied (the message names the task
                ``type_name`` and the parameter).
        """
        ...


_lock = threading.Lock()
_sources: tuple[ParameterSource, ...] = ()
_generation = 0


def add_parameter_source(source: ParameterSource) -> None:
    """Register ``source`` for every task function of the process (once, however often it is
    added); task functions already made take it into account at their next use.

    Raises:
        ValidationError: ``source`` has no ``claims`` or ``prepare`` method.
    """
    global _sources, _generation
    if not isinstance(source, ParameterSource):
        raise ValidationError(
            f"a parameter source needs claims() and prepare() methods, not {source!r}"
        )
    with _lock:
        if source not in _sources:
            _sources = (*_sources, source)
            _generation += 1


def remove_parameter_source(source: ParameterSource) -> None:
    """Unregister ``source`` (nothing happens if it is not registered)."""
    global _sources, _generation
    with _lock:
        if source in _sources:
            _sources = tuple(s for s in _sources if s is not source)
            _generation += 1


def parameter_sources() -> tuple[int, tuple[ParameterSource, ...]]:
    """The registered sources, with a number that changes whenever they change."""
    return _generation, _sources


@asynccontextmanager
async def supplying(
    suppliers: Sequence[ParameterSupplier], task: ActiveTask
) -> AsyncIterator[dict[str, Any]]:
    """Every supplier's values for one run of ``task``, exited in reverse order."""
    values: dict[str, Any] = {}
    async with AsyncExitStack() as stack:
        for supplier in suppliers:
            values.update(await stack.enter_async_context(supplier.supply(task)))
        yield values
