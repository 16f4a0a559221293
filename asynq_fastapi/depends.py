"""FastAPI dependencies in task functions: ``Depends(...)`` parameters, made in the worker.

A task function declares the dependencies its routes use, in either form::

    @asynq.task
    async def ship_order(
        order_id: int,
        db: Annotated[AsyncSession, Depends(get_session)],
        settings: Settings = Depends(get_settings),
    ) -> None: ...

Those parameters are not JSON arguments (``ship_order.enqueue(order_id=1)``; a Go producer
writes ``{"order_id":1}``): :data:`SOURCE`, the parameter source this module registers with
``asynq.add_parameter_source`` when it is imported, claims them, and makes their
values for each run as FastAPI makes them for a request — sync callables in a thread, ``async``
ones on the loop, generator dependencies entered and closed after the task (the task's error
thrown into them), sub-dependencies, one call per run for a dependency used twice
(``use_cache``), classes, and the app's ``dependency_overrides``.

The dependency tree comes from FastAPI's own reading of signatures
(:func:`fastapi.dependencies.utils.get_dependant`), so a parameter means here what it means on a
route. What only a request has — ``Request``, ``WebSocket``, ``Response``, ``BackgroundTasks``,
``SecurityScopes``, security scopes, path, query, header, cookie and body parameters — is
refused with a :class:`asynq.ValidationError` naming the task, the parameter and the dependency
chain, when the task function is decorated. No ``Request`` is made up.

The app whose ``dependency_overrides`` apply is the one whose ``asynq_fastapi`` worker runs the
task (:func:`~asynq_fastapi.current_app`), else, in eager mode or a plain ``asynq worker``, the
one app whose ``asynq_lifespan`` is running in the process; with none (or several), none
applies. FastAPI's ``Depends(max_concurrency=...)`` is not applied to tasks.

The task modules need not import ``asynq_fastapi``: :data:`SOURCE` is also the project's
``asynq.parameter_sources`` entry point ``fastapi``, which the core loads (importing this
module) as soon as a task function's parameter carries a FastAPI object.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Annotated, Any

from fastapi import params
from fastapi.concurrency import contextmanager_in_threadpool, run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant

import asynq
from asynq_fastapi.worker import current_app

__all__ = ["SOURCE", "FastAPIDependencies"]

#: What a Dependant holds when a dependency takes something only a request has:
#: (attribute, what it names). Attributes missing from a FastAPI version are skipped.
_REQUEST_ONLY_OBJECTS = (
    ("request_param_name", "the Request"),
    ("websocket_param_name", "the WebSocket"),
    ("http_connection_param_name", "the HTTP connection"),
    ("response_param_name", "the Response"),
    ("background_tasks_param_name", "BackgroundTasks"),
    ("security_scopes_param_name", "SecurityScopes"),
)
_REQUEST_ONLY_FIELDS = (
    ("path_params", "the path parameter"),
    ("query_params", "the query parameter"),
    ("header_params", "the header"),
    ("cookie_params", "the cookie"),
    ("body_params", "the body field"),
)


def _depends_of(parameter: inspect.Parameter, annotation: Any) -> params.Depends | None:
    """The ``Depends`` of a parameter (its default, or the last one in ``Annotated``)."""
    if isinstance(parameter.default, params.Depends):
        return parameter.default
    if typing.get_origin(annotation) is Annotated:
        found = [m for m in typing.get_args(annotation)[1:] if isinstance(m, params.Depends)]
        if found:
            return found[-1]
    return None


def _name(call: Any) -> str:
    call = _unwrapped(call)
    return str(getattr(call, "__qualname__", None) or type(call).__qualname__)


def _unwrapped(call: Any) -> Any:
    while isinstance(call, functools.partial):
        call = call.func
    return inspect.unwrap(call) if callable(call) else call


def _needs(dependant: Dependant) -> str | None:
    """What only a request has that ``dependant`` itself asks for, or ``None``."""
    for attribute, what in _REQUEST_ONLY_OBJECTS:
        name = getattr(dependant, attribute, None)
        if name:
            return f'{what} (parameter "{name}")'
    for attribute, what in _REQUEST_ONLY_FIELDS:
        fields = getattr(dependant, attribute, None)
        if fields:
            return f'{what} "{fields[0].name}"'
    # Security(..., scopes=[...]): own_oauth_scopes in recent FastAPI, security_scopes before.
    if getattr(dependant, "own_oauth_scopes", None) or getattr(dependant, "security_scopes", None):
        return "security scopes"
    return None


def _check(dependant: Dependant, type_name: str, parameter: str, chain: str) -> None:
    """Refuse a dependency tree that asks for something only a request has.

    Raises:
        ValidationError: naming the task, the parameter and the dependency chain.
    """
    needs = _needs(dependant)
    if needs is not None:
        raise asynq.ValidationError(
            f'task "{type_name}": parameter "{parameter}": the dependency {chain} needs '
            f"{needs}, which only a request has; in a task function a dependency may only "
            "take other dependencies"
        )
    for sub in dependant.dependencies:
        _check(sub, type_name, parameter, f"{chain} -> {_name(sub.call)}")


def _dependant(call: Any, name: str, use_cache: bool, type_name: str) -> Dependant:
    """FastAPI's reading of ``call`` as the dependency of parameter ``name``, checked."""
    try:
        dependant = get_dependant(path="", call=call, name=name, use_cache=use_cache)
    except Exception as exc:  # FastAPI asserts on what it cannot use
        raise asynq.ValidationError(
            f'task "{type_name}": parameter "{name}": FastAPI cannot use the dependency '
            f"{_name(call)}: {exc}"
        ) from exc
    _check(dependant, type_name, name, _name(call))
    return dependant


def _kind(call: Any) -> str:
    """How FastAPI calls ``call``: ``"asyncgen"``, ``"gen"``, ``"async"`` or ``"sync"`` (a
    class is instantiated in a thread; an instance is judged by its ``__call__``)."""
    target = _unwrapped(call)
    candidates = [target]
    if not inspect.isclass(target) and not inspect.isroutine(target):
        candidates.append(_unwrapped(getattr(target, "__call__", None)))  # noqa: B004
    for fn in candidates:
        if inspect.isasyncgenfunction(fn):
            return "asyncgen"
        if inspect.isgeneratorfunction(fn):
            return "gen"
        if inspect.iscoroutinefunction(fn):
            return "async"
    return "sync"


async def _call(call: Any, kwargs: dict[str, Any], stack: AsyncExitStack) -> Any:
    kind = _kind(call)
    if kind == "asyncgen":
        return await stack.enter_async_context(asynccontextmanager(call)(**kwargs))
    if kind == "gen":
        return await stack.enter_async_context(
            contextmanager_in_threadpool(contextmanager(call)(**kwargs))
        )
    if kind == "async":
        return await call(**kwargs)
    return await run_in_threadpool(call, **kwargs)


def _overrides() -> Mapping[Any, Any]:
    """The ``dependency_overrides`` of the app this run belongs to (see the module)."""
    try:
        app = current_app()
    except LookupError:
        return {}
    return getattr(app, "dependency_overrides", None) or {}


class _Supplier:
    """Makes the dependencies of one task function for each of its runs."""

    def __init__(self, type_name: str, dependants: Sequence[Dependant]) -> None:
        self._type_name = type_name
        self._dependants = tuple(dependants)

    @asynccontextmanager
    async def supply(self, task: asynq.ActiveTask) -> AsyncIterator[dict[str, Any]]:
        """The values of the ``Depends`` parameters for one run; generator dependencies are
        closed on exit, the last entered first, with the task's exception thrown in."""
        overrides = _overrides()
        cache: dict[Any, Any] = {}
        async with AsyncExitStack() as stack:
            values = {}
            for dependant in self._dependants:
                assert dependant.name is not None  # every top dependant is a parameter
                values[dependant.name] = await self._solve(dependant, stack, cache, overrides)
            yield values

    async def _solve(
        self,
        dependant: Dependant,
        stack: AsyncExitStack,
        cache: dict[Any, Any],
        overrides: Mapping[Any, Any],
    ) -> Any:
        original = dependant.call
        if dependant.use_cache and original in cache:
            return cache[original]
        call = overrides.get(original, original)
        if call is not original:
            assert dependant.name is not None
            dependant = _dependant(call, dependant.name, dependant.use_cache, self._type_name)
        kwargs = {}
        for sub in dependant.dependencies:
            assert sub.name is not None  # a sub-dependency is a parameter of its parent
            kwargs[sub.name] = await self._solve(sub, stack, cache, overrides)
        value = await _call(call, kwargs, stack)
        cache.setdefault(original, value)  # keyed by the declared dependency, as FastAPI does
        return value


class FastAPIDependencies:
    """The parameter source of FastAPI's ``Depends`` (see the module); registered once, as
    :data:`SOURCE`, when this module is imported."""

    def claims(self, parameter: inspect.Parameter, annotation: Any) -> bool:
        """Whether the parameter is a ``Depends`` (default or ``Annotated`` form)."""
        return _depends_of(parameter, annotation) is not None

    def prepare(
        self,
        fn: Callable[..., Any],
        type_name: str,
        parameters: Sequence[asynq.ClaimedParameter],
    ) -> _Supplier:
        """Read each ``Depends`` parameter's dependency tree and refuse what needs a request.

        Raises:
            ValidationError: a dependency needs something only a request has, or FastAPI
                cannot use it (the message names the task and the parameter).
        """
        dependants = []
        for claimed in parameters:
            depends = _depends_of(claimed.parameter, claimed.annotation)
            assert depends is not None  # claimed
            if isinstance(depends, params.Security) and depends.scopes:
                raise asynq.ValidationError(
                    f'task "{type_name}": parameter "{claimed.name}": Security scopes need '
                    "a request; use Depends(...) in a task function"
                )
            call = depends.dependency
            if call is None:  # Depends() on a typed parameter: the type is the dependency
                call = claimed.annotation
                if typing.get_origin(call) is Annotated:
                    call = typing.get_args(call)[0]
                if not callable(call):
                    raise asynq.ValidationError(
                        f'task "{type_name}": parameter "{claimed.name}": Depends() without '
                        f"a dependency needs a class annotation, not {call!r}"
                    )
            dependants.append(_dependant(call, claimed.name, depends.use_cache, type_name))
        return _Supplier(type_name, dependants)


#: The one FastAPI parameter source, registered by importing this module (the
#: ``asynq.parameter_sources`` entry point ``fastapi`` names it).
SOURCE = FastAPIDependencies()
asynq.add_parameter_source(SOURCE)
