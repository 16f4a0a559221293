"""How a task function's arguments travel: one JSON object keyed by parameter name.

The producer binds the call's arguments to the function's signature (so positional arguments
get their names), leaves out the ones not given (the worker's defaults apply), and encodes the
object as compact UTF-8 JSON — the task's payload. The worker decodes the object, converts each
value to its parameter's annotation and calls the function. A Go service writes the same
payload with ``json.Marshal`` of a struct whose ``json`` tags are the parameter names.

A first parameter annotated :class:`~asynq.ActiveTask` receives the running task; it is not
one of the JSON arguments, nor are the parameters a framework supplies at run time (see
:mod:`asynq._functions.supplied`).
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable, Mapping
from typing import Any

from asynq._functions.installed_sources import register_sources_for
from asynq._functions.supplied import ClaimedParameter, ParameterSupplier, parameter_sources
from asynq._functions.values import ValueProblem, from_json, to_json
from asynq.errors import SkipRetry, TaskArgumentsError, ValidationError
from asynq.server._active_task import ActiveTask

__all__ = ["Arguments", "dumps"]

_VAR_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


#: The characters Go's ``json.Marshal`` escapes in text (its HTML-safe output) and Python's
#: ``json`` does not, with Go's escape. They only occur inside JSON strings, so replacing them
#: in the whole document is safe.
_GO_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, escaped as Go's ``json.Marshal`` escapes text.

    ``<``, ``>``, ``&``, U+2028 and U+2029 are written ``\\u003c`` and so on, as Go writes
    them, so that arguments Go marshals to the same text give the same bytes, hence the same
    uniqueness key (docs/compatibility.md, "Unique tasks from Python and Go"). Any JSON reader
    decodes either form to the same value.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for char, escape in _GO_ESCAPES:
        if char in text:  # a scan; the copy only for the few payloads that need it
            text = text.replace(char, escape)
    return text.encode()


def _kind_of(data: Any) -> str:
    names = {list: "an array", str: "text", bool: "a boolean", type(None): "null"}
    return names.get(type(data), "a number")


def _takes_task(fn: Callable[..., Any], first: inspect.Parameter) -> bool:
    """Whether ``first`` is annotated ActiveTask (also as a string, unresolvable or not)."""
    if first.kind not in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD):
        return False
    annotation = first.annotation
    if isinstance(annotation, str):
        try:
            annotation = typing.get_type_hints(fn).get(first.name, annotation)
        except Exception:  # a forward reference defined later: judge by the name
            return bool(annotation.rsplit(".", 1)[-1] == "ActiveTask")
    return isinstance(annotation, type) and issubclass(annotation, ActiveTask)


class _Layout:
    """Which parameters are JSON arguments and which a framework supplies, as made with one
    set of registered parameter sources (see :mod:`asynq._functions.supplied`)."""

    __slots__ = ("generation", "named", "signature", "suppliers", "var_keyword")

    def __init__(
        self,
        generation: int,
        signature: inspect.Signature,
        suppliers: tuple[ParameterSupplier, ...],
    ) -> None:
        self.generation = generation
        #: The signature callers see: the JSON arguments only.
        self.signature = signature
        #: What supplies the other parameters, per source claiming some.
        self.suppliers = suppliers
        params = signature.parameters.values()
        self.named = {p.name: p for p in params if p.kind is not p.VAR_KEYWORD}
        self.var_keyword = next((p for p in params if p.kind is p.VAR_KEYWORD), None)


def _annotations_with_extras(fn: Callable[..., Any]) -> dict[str, Any]:
    """``fn``'s annotations resolved with their ``Annotated`` metadata; one that names
    something not defined yet stays as its text (the others still resolve)."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        pass
    namespace = getattr(inspect.unwrap(fn), "__globals__", {})
    resolved: dict[str, Any] = {}
    for name, annotation in getattr(fn, "__annotations__", {}).items():
        try:
            resolved[name] = (
                eval(annotation, namespace) if isinstance(annotation, str) else annotation
            )
        except Exception:
            resolved[name] = annotation
    return resolved


class Arguments:
    """The parameters of one task function and how their values are encoded and decoded.

    Args:
        fn: The task function.
        type_name: The task type, named in error messages.

    Raises:
        ValidationError: a parameter source refuses a parameter it claims, or the installed
            source of a parameter's marker object cannot be loaded.
    """

    def __init__(self, fn: Callable[..., Any], type_name: str) -> None:
        self._fn = fn
        self.type_name = type_name
        self._full_signature = inspect.signature(fn)
        params = list(self._full_signature.parameters.values())
        #: Whether the function's first parameter receives the running ActiveTask.
        self.takes_task = bool(params) and _takes_task(fn, params[0])
        self._params = params[1:] if self.takes_task else params
        self._layout: _Layout | None = None
        self._hints: dict[str, Any] | None = None
        try:
            self.hints()
        except Exception:
            pass  # annotations naming things defined later: resolved on first use
        self.layout()  # a parameter no source can supply is refused now, when it can be

    def hints(self) -> dict[str, Any]:
        """The function's resolved annotations (``typing.get_type_hints``), cached."""
        if self._hints is None:
            try:
                self._hints = typing.get_type_hints(self._fn)
            except Exception as exc:
                raise ValidationError(
                    f'task "{self.type_name}": cannot resolve the annotations of '
                    f"{self._fn.__qualname__}: {exc}"
                ) from exc
        return self._hints

    def layout(self) -> _Layout:
        """The parameters split between JSON arguments and framework-supplied ones, made
        again when the registered parameter sources changed since.

        Raises:
            ValidationError: a source refuses a parameter it claims, or the source of a
                parameter's marker object cannot be loaded (see
                :mod:`asynq._functions.installed_sources`).
        """
        layout = self._layout
        if layout is None or layout.generation != parameter_sources()[0]:
            layout = self._layout = self._lay_out()
        return layout

    def _lay_out(self) -> _Layout:
        annotations = _annotations_with_extras(self._fn)
        # The sources of the frameworks whose objects the parameters carry (a FastAPI
        # Depends), registered first: unregistered, they would pass for JSON arguments.
        register_sources_for(self.type_name, self._params, annotations)
        generation, sources = parameter_sources()
        claimed: dict[int, list[ClaimedParameter]] = {}
        if sources:
            for param in self._params:
                if param.kind in _VAR_KINDS:
                    continue
                annotation = annotations.get(param.name, param.annotation)
                for index, source in enumerate(sources):
                    if source.claims(param, annotation):
                        claimed.setdefault(index, []).append(ClaimedParameter(param, annotation))
                        break
        suppliers = tuple(
            sources[index].prepare(self._fn, self.type_name, parameters)
            for index, parameters in claimed.items()
        )
        supplied = {c.name for parameters in claimed.values() for c in parameters}
        own = [p for p in self._params if p.name not in supplied]
        return _Layout(generation, self._full_signature.replace(parameters=own), suppliers)

    @property
    def signature(self) -> inspect.Signature:
        """The signature callers see: the function's, without the ActiveTask parameter and
        the parameters a framework supplies."""
        return self.layout().signature

    @property
    def suppliers(self) -> tuple[ParameterSupplier, ...]:
        """What supplies the parameters that are not JSON arguments (empty: none)."""
        return self.layout().suppliers

    # -- producer side ------------------------------------------------------------------------

    def encode(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """The payload for a call with ``args`` and ``kwargs``.

        Raises:
            ValidationError: the arguments do not bind to the signature, or a value has no
                JSON form.
        """
        layout = self.layout()
        try:
            bound = layout.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ValidationError(f'task "{self.type_name}": {exc}') from None
        data: dict[str, Any] = {}
        try:
            for name, value in bound.arguments.items():
                if layout.var_keyword is not None and name == layout.var_keyword.name:
                    for key in sorted(value):
                        data[key] = to_json(value[key], key)
                else:
                    data[name] = to_json(value, name)
        except ValueProblem as exc:
            raise ValidationError(
                f'task "{self.type_name}": argument "{exc.where}": {exc.problem}'
            ) from None
        return dumps(data)

    # -- worker side --------------------------------------------------------------------------

    def decode(self, task_type: str, payload: bytes) -> dict[str, Any]:
        """The JSON arguments a payload stands for, by parameter name, in signature order
        (``*args`` as a tuple, ``**kwargs`` as a dict); :meth:`call_arguments` makes the call.

        An empty payload means no arguments (a Go producer's ``NewTask(type, nil)``).

        Raises:
            TaskArgumentsError: the payload is not a JSON object, misses a required argument,
                names an unknown one, or holds a value that does not fit its annotation; or
                a parameter source refuses a parameter of the function.
        """
        try:
            layout = self.layout()
        except ValidationError as exc:
            # Refused at the first run (its source came after the decoration): no run of
            # this task can succeed, so it is archived like a bad payload.
            problem = str(exc).removeprefix(f'task "{task_type}": ')
            raise TaskArgumentsError(task_type, problem) from exc
        data = self._object(task_type, payload)
        hints = self.hints()
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        try:
            for key, value in data.items():
                param = layout.named.get(key)
                if param is not None:
                    values[key] = self._value(param, value, hints)
                elif layout.var_keyword is not None:
                    extra[key] = from_json(value, hints.get(layout.var_keyword.name, Any), key)
                else:
                    raise TaskArgumentsError(task_type, f'unknown argument "{key}"')
        except ValueProblem as exc:
            raise TaskArgumentsError(task_type, f'argument "{exc.where}": {exc.problem}') from None
        missing = [
            name
            for name, p in layout.named.items()
            if p.kind not in _VAR_KINDS and p.default is p.empty and name not in values
        ]
        if missing:
            names = ", ".join(f'"{name}"' for name in missing)
            raise TaskArgumentsError(task_type, f"missing required argument {names}")
        ordered = {name: values[name] for name in layout.named if name in values}
        if layout.var_keyword is not None and extra:
            ordered[layout.var_keyword.name] = extra
        return ordered

    def call_arguments(
        self,
        values: Mapping[str, Any],
        *,
        task: ActiveTask | None = None,
        supplied: Mapping[str, Any] | None = None,
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword arguments calling the function with the decoded
        ``values``, the running ``task`` (when it takes one) and the ``supplied`` values."""
        ordered: dict[str, Any] = {}
        if self.takes_task:
            ordered[next(iter(self._full_signature.parameters))] = task
        supplied = supplied or {}
        for name in self._full_signature.parameters:
            if name in values:
                ordered[name] = values[name]
            elif name in supplied:
                ordered[name] = supplied[name]
        bound = inspect.BoundArguments(self._full_signature, ordered)
        return bound.args, bound.kwargs

    @staticmethod
    def _object(task_type: str, payload: bytes) -> dict[str, Any]:
        if not payload.strip():
            return {}
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise TaskArgumentsError(task_type, f"payload is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise TaskArgumentsError(
                task_type,
                f"payload must be a JSON object keyed by parameter name, not {_kind_of(data)}",
            )
        return data

    @staticmethod
    def _value(param: inspect.Parameter, value: Any, hints: dict[str, Any]) -> Any:
        annotation = hints.get(param.name, Any)
        if param.kind is param.VAR_POSITIONAL:
            return tuple(from_json(value, list[annotation], param.name))  # type: ignore[valid-type]
        return from_json(value, annotation, param.name)

    # -- results ------------------------------------------------------------------------------

    def encode_result(self, task_type: str, value: Any) -> bytes | None:
        """The stored form of a return value: ``None`` stores nothing, the rest is JSON.

        Raises:
            SkipRetry: the value has no JSON form (running the function again would not help).
        """
        if value is None:
            return None
        try:
            return dumps(to_json(value, "result"))
        except ValueProblem as exc:
            raise SkipRetry(f'task "{task_type}": cannot store {exc}') from None

    def decode_result(self, data: bytes) -> Any:
        """A stored result converted to the function's return annotation.

        Raises:
            ValidationError: the stored bytes are not JSON or do not fit the annotation.
        """
        try:
            value = json.loads(data)
        except ValueError as exc:
            raise ValidationError(
                f'task "{self.type_name}": the stored result is not JSON ({exc})'
            ) from None
        try:
            return from_json(value, self.hints().get("return", Any), "result")
        except ValueProblem as exc:
            raise ValidationError(f'task "{self.type_name}": {exc}') from None
