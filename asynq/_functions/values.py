"""Python values ↔ JSON values, guided by type annotations.

:func:`to_json` turns an argument (or a result) into plain JSON data; :func:`from_json` turns
JSON data back into the annotated type. The mapping is the one a Go service gets from
``encoding/json``, so a Go struct with ``json`` tags reads what Python writes and the reverse:

================================  ===============================================
Python                            JSON
================================  ===============================================
``str``, ``int``, ``float``,      the same (``NaN`` and infinities are refused, as
``bool``, ``None``                Go's ``json.Marshal`` refuses them)
``datetime``, ``date``, ``time``  ISO 8601 text (Go's ``time.Time`` is RFC 3339)
``UUID``, ``Decimal``             their text
``bytes``                         standard base64 text (Go's ``[]byte``)
``Enum``                          the member's value
dataclass, Pydantic model         an object of its fields (a ``TypedDict`` too)
``list``, ``tuple``, ``set``      an array (a set's members sorted when they can be)
``dict``                          an object; ``int`` keys become text, as in Go
================================  ===============================================

Go's ``encoding/json`` writes a nil slice, map or ``[]byte`` as ``null``: a Go struct whose
slice field was never set sends ``"tags":null``. :func:`from_json` reads ``null`` as the empty
value of a non-optional ``list``, ``tuple[X, ...]``, ``set``, ``frozenset``, ``dict`` or
``bytes`` annotation (at any depth, Pydantic model fields included), which is what the Go
programmer meant; an ``Optional[...]`` (``X | None``) annotation keeps ``None``.

Pydantic is optional: a model can only reach these functions if its module is imported, so
they look it up in ``sys.modules`` instead of importing it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import enum
import sys
import types
import typing
import uuid
from collections import abc
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["ValueProblem", "from_json", "to_json"]


class ValueProblem(Exception):
    """A value that cannot be converted; ``where`` is its path (``"user.tags[2]"``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def _pydantic_model_class() -> type | None:
    module = sys.modules.get("pydantic")
    return getattr(module, "BaseModel", None) if module is not None else None


# -- encoding ---------------------------------------------------------------------------------


def to_json(value: Any, where: str) -> Any:
    """``value`` as JSON data (dicts, lists, str, int, float, bool, None).

    Raises:
        ValueProblem: the value (or something inside it) has no JSON form.
    """
    if value is None or isinstance(value, str | bool | int):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueProblem(where, f"{value} has no JSON form")
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value, where)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueProblem(where, f"{value} has no JSON form")
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {_key(k, where): to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, set | frozenset):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(_ordered(value))]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name), f"{where}.{f.name}")
            for f in dataclasses.fields(value)
        }
    model = _pydantic_model_class()
    if model is not None and isinstance(value, model):
        return value.model_dump(mode="json")  # type: ignore[attr-defined]
    raise ValueProblem(where, f"{type(value).__qualname__} has no JSON form")


def _key(key: object, where: str) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise ValueProblem(where, f"dict key {key!r} is neither text nor an integer")


def _ordered(members: set[Any] | frozenset[Any]) -> list[Any]:
    # Sorted, so that equal sets give equal payloads (uniqueness locks hash the payload).
    try:
        return sorted(members)
    except TypeError:
        return list(members)


# -- decoding ---------------------------------------------------------------------------------

_NONE_TYPE = type(None)


def from_json(data: Any, annotation: Any, where: str) -> Any:
    """JSON ``data`` converted to ``annotation`` (``Any`` or ``object``: as is).

    Raises:
        ValueProblem: ``data`` does not fit the annotation.
    """
    if annotation is Any or annotation is object:
        return data
    if isinstance(annotation, typing.NewType):
        return from_json(data, annotation.__supertype__, where)
    origin = typing.get_origin(annotation)
    if origin in (typing.Annotated, typing.Required, typing.NotRequired):
        return from_json(data, typing.get_args(annotation)[0], where)
    if origin is typing.Union or origin is types.UnionType:
        return _union(data, typing.get_args(annotation), where)
    if origin is typing.Literal:
        if data in typing.get_args(annotation):
            return data
        raise ValueProblem(where, f"expected one of {typing.get_args(annotation)}, got {data!r}")
    if origin is not None:
        return _generic(data, origin, typing.get_args(annotation), where)
    if isinstance(annotation, type) and (
        annotation in _ARRAY_ORIGINS or annotation in _OBJECT_ORIGINS
    ):
        return _generic(data, annotation, (), where)  # a bare ``list``, ``set``, ``dict``...
    if annotation is None or annotation is _NONE_TYPE:
        if data is None:
            return None
        raise ValueProblem(where, f"expected null, got {_shown(data)}")
    if isinstance(annotation, type):
        return _class(data, annotation, where)
    return data  # a TypeVar, a string annotation left unresolved...: nothing to check


def _shown(data: Any) -> str:
    text = repr(data)
    kind = {dict: "an object", list: "an array", str: "text", bool: "a boolean"}.get(type(data))
    if data is None:
        return "null"
    if kind is None:
        kind = "a number"
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"


def _union(data: Any, options: tuple[Any, ...], where: str) -> Any:
    if data is None and _NONE_TYPE in options:
        return None
    problems = []
    for option in options:
        if option is _NONE_TYPE:
            continue
        try:
            return from_json(data, option, where)
        except ValueProblem as exc:
            problems.append(exc.problem)
    raise ValueProblem(where, "; ".join(dict.fromkeys(problems)) or f"unexpected {_shown(data)}")


#: Abstract collection types an annotation may use, and the concrete type decoded for each.
_ARRAY_ORIGINS: dict[Any, type] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    abc.Sequence: list,
    abc.MutableSequence: list,
    abc.Iterable: list,
    abc.Collection: list,
    abc.Set: frozenset,
    abc.MutableSet: set,
}
_OBJECT_ORIGINS = (dict, abc.Mapping, abc.MutableMapping)


def _fixed_length(origin: Any, args: tuple[Any, ...]) -> bool:
    """Whether the annotation is a tuple of a fixed length (``tuple[int, str]``)."""
    return origin is tuple and bool(args) and not (len(args) == 2 and args[1] is Ellipsis)


def _generic(data: Any, origin: Any, args: tuple[Any, ...], where: str) -> Any:
    concrete = _ARRAY_ORIGINS.get(origin)
    if concrete is not None:
        if data is None and not _fixed_length(origin, args):
            return concrete()  # a Go nil slice
        if not isinstance(data, list):
            raise ValueProblem(where, f"expected an array, got {_shown(data)}")
        if _fixed_length(origin, args):
            if len(args) != len(data):
                raise ValueProblem(where, f"expected {len(args)} items, got {len(data)}")
            return tuple(
                from_json(v, a, f"{where}[{i}]")
                for i, (v, a) in enumerate(zip(data, args, strict=True))
            )
        item = args[0] if args else Any
        return concrete(from_json(v, item, f"{where}[{i}]") for i, v in enumerate(data))
    if origin in _OBJECT_ORIGINS:
        if data is None:
            return {}  # a Go nil map
        if not isinstance(data, dict):
            raise ValueProblem(where, f"expected an object, got {_shown(data)}")
        key_type, value_type = args if len(args) == 2 else (Any, Any)
        return {
            from_json(_key_from_text(k, key_type, where), key_type, where): from_json(
                v, value_type, f"{where}[{k!r}]"
            )
            for k, v in data.items()
        }
    if isinstance(origin, type):
        return _class(data, origin, where)
    return data


def _key_from_text(key: str, key_type: Any, where: str) -> Any:
    # JSON keys are always text; Go writes map[int]T keys as decimal text.
    if key_type is int or (isinstance(key_type, type) and issubclass(key_type, int)):
        try:
            return int(key)
        except ValueError:
            raise ValueProblem(where, f"key {key!r} is not an integer") from None
    return key


def _class(data: Any, cls: type, where: str) -> Any:  # noqa: C901 - one branch per type
    if cls is bool:
        if isinstance(data, bool):
            return data
    elif cls is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if isinstance(data, float) and data.is_integer():
            return int(data)  # Go may write a whole float64 such as 3.0 as 3, or JS as 3.0
    elif cls is float:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return float(data)
    elif cls is str:
        if isinstance(data, str):
            return data
    elif issubclass(cls, enum.Enum):
        try:
            return cls(data)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise ValueProblem(where, f"{data!r} is not a {cls.__name__} ({choices})") from None
    elif cls in (datetime, date, time):
        if isinstance(data, str):
            try:
                return cls.fromisoformat(data)
            except ValueError:
                raise ValueProblem(where, f"{data!r} is not an ISO 8601 {cls.__name__}") from None
    elif cls is uuid.UUID:
        if isinstance(data, str):
            try:
                return uuid.UUID(data)
            except ValueError:
                raise ValueProblem(where, f"{data!r} is not a UUID") from None
    elif cls is Decimal:
        if isinstance(data, str | int | float) and not isinstance(data, bool):
            try:
                return Decimal(str(data))
            except InvalidOperation:
                raise ValueProblem(where, f"{data!r} is not a decimal number") from None
    elif cls is bytes:
        if data is None:
            return b""  # a Go nil []byte
        if isinstance(data, str):
            try:
                return base64.b64decode(data, validate=True)
            except binascii.Error:
                raise ValueProblem(where, f"{data!r} is not base64") from None
    elif dataclasses.is_dataclass(cls):
        return _dataclass(data, cls, where)
    elif typing.is_typeddict(cls):
        return _typeddict(data, cls, where)
    elif (model := _pydantic_model_class()) is not None and issubclass(cls, model):
        return _pydantic(data, cls, where)
    elif isinstance(data, cls):
        return data  # dict, list, ...: JSON gave the very type asked for
    raise ValueProblem(where, f"expected {_type_name(cls)}, got {_shown(data)}")


def _type_name(cls: type) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "text"}.get(
        cls, cls.__qualname__
    )


def _dataclass(data: Any, cls: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueProblem(where, f"expected an object for {cls.__qualname__}, got {_shown(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueProblem(where, f"unknown field(s) of {cls.__qualname__}: {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = from_json(data[name], hints.get(name, Any), f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValueProblem(where, f"missing field {name!r} of {cls.__qualname__}")
    return cls(**values)


def _typeddict(data: Any, cls: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueProblem(where, f"expected an object for {cls.__qualname__}, got {_shown(data)}")
    hints = typing.get_type_hints(cls, include_extras=True)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise ValueProblem(where, f"unknown key(s) of {cls.__qualname__}: {', '.join(unknown)}")
    # Python 3.11 counts a NotRequired[...] written as a string annotation as required.
    required = {
        key
        for key, hint in hints.items()
        if typing.get_origin(hint) is typing.Required
        or (typing.get_origin(hint) is not typing.NotRequired and key in cls.__required_keys__)  # type: ignore[attr-defined]
    }
    missing = sorted(required - set(data))
    if missing:
        raise ValueProblem(where, f"missing key(s) of {cls.__qualname__}: {', '.join(missing)}")
    return {key: from_json(value, hints[key], f"{where}.{key}") for key, value in data.items()}


def _pydantic(data: Any, cls: type, where: str) -> Any:
    pydantic = sys.modules["pydantic"]
    try:
        return cls.model_validate(data)  # type: ignore[attr-defined]
    except pydantic.ValidationError as exc:
        errors = exc.errors()
    repaired = _go_nulls_emptied(data, errors)
    if repaired is not None:
        try:
            return cls.model_validate(repaired)  # type: ignore[attr-defined]
        except pydantic.ValidationError:
            pass  # the first errors say best what is wrong
    problems = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or cls.__qualname__}: {e['msg']}" for e in errors
    )
    raise ValueProblem(where, problems)


#: Pydantic's error types for a value that is not the collection its field wants, and the
#: empty value of that collection.
_PYDANTIC_EMPTY: dict[str, Any] = {
    "list_type": list,
    "tuple_type": tuple,
    "set_type": set,
    "frozen_set_type": frozenset,
    "dict_type": dict,
    "bytes_type": bytes,
}


def _go_nulls_emptied(data: Any, errors: list[Any]) -> Any:
    """A copy of ``data`` with each ``null`` Pydantic refused for a collection field replaced
    by the empty collection (a Go nil slice, map or ``[]byte``); ``None``: there is none.

    Pydantic's errors locate the values in ``data`` itself (keys as the input spells them),
    so the rule reaches nested models and list items without reading the model's fields. A
    location that does not lead to a ``null`` in ``data`` (a union member's tag) is left alone.
    """
    targets = [
        (e["loc"], _PYDANTIC_EMPTY[e["type"]])
        for e in errors
        if e["type"] in _PYDANTIC_EMPTY and e["input"] is None and e["loc"]
    ]
    if not targets:
        return None
    data = copy.deepcopy(data)
    repaired = False
    for loc, empty in targets:
        container = data
        for step in loc[:-1]:
            container = _step(container, step)
        if _step(container, loc[-1]) is None:
            container[loc[-1]] = empty()
            repaired = True
    return data if repaired else None


_MISSING = object()


def _step(container: Any, key: Any) -> Any:
    """``container[key]`` when ``container`` is JSON data holding ``key``, else a sentinel."""
    return container[key] if _has(container, key) else _MISSING


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and -1 < key < len(container)
