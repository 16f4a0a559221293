"""Plug-ins named after the package whose objects they handle.

The adapters plug into the core through entry-point groups of the installed distributions
(``asynq.apps``, ``asynq.parameter_sources``) in which each entry point is named after a
top-level package, say ``starlette``, and is only consulted about an object whose class, or one
of its base classes, is defined in that package. So an object of a framework reaches that
framework's adapter, and any other object reaches none: no adapter, and no framework, is
imported for it.

Entry points are read from the installed distributions' metadata, once per group for a given
``sys.path`` (reading every distribution's metadata takes milliseconds, and task functions
ask at each decoration).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from asynq.errors import ValidationError

__all__ = ["entry_points_for", "load_entry_point", "packages_of"]

_lock = threading.Lock()
#: group -> (the sys.path it was read with, its entry points by name sorted by value).
_read: dict[str, tuple[tuple[str, ...], dict[str, list[EntryPoint]]]] = {}


def packages_of(cls: type) -> list[str]:
    """The top-level packages defining ``cls`` and its bases, most derived first (the
    built-in ``object`` and its kin left out)."""
    packages = dict.fromkeys(base.__module__.partition(".")[0] for base in cls.__mro__)
    packages.pop("builtins", None)
    return list(packages)


def entry_points_for(group: str, cls: type) -> Iterator[EntryPoint]:
    """The entry points of ``group`` named after the packages of ``cls`` and its bases: the
    most derived class's package first, by entry-point value within a name."""
    packages = packages_of(cls)
    if not packages:
        return
    by_name = _by_name(group)
    for package in packages:
        yield from by_name.get(package, ())


def _by_name(group: str) -> dict[str, list[EntryPoint]]:
    path = tuple(sys.path)
    with _lock:
        read = _read.get(group)
        if read is None or read[0] != path:
            by_name: dict[str, list[EntryPoint]] = {}
            for entry in entry_points(group=group):
                by_name.setdefault(entry.name, []).append(entry)
            for entries in by_name.values():
                entries.sort(key=lambda entry: entry.value)
            read = _read[group] = (path, by_name)
        return read[1]


def load_entry_point(entry: EntryPoint, role: str) -> Any:
    """The object ``entry`` names (importing its module), called a ``role`` in messages.

    Raises:
        ValidationError: its module cannot be imported (a missing dependency included) or has
            no such attribute; the message names the group, the entry point, the distribution
            declaring it and the cause. Other errors raised by the module's own code propagate.
    """
    try:
        return entry.load()
    except (ImportError, AttributeError) as exc:
        declared = f" (declared by {entry.dist.name})" if entry.dist is not None else ""
        raise ValidationError(
            f"cannot load the {entry.group} {role} {entry.name} = {entry.value!r}{declared}: {exc}"
        ) from None
