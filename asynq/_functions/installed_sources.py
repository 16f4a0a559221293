"""Parameter sources found through the objects a task function's parameters carry.

A framework's parameter source (:mod:`asynq._functions.supplied`) has to be registered before a
task function's parameters are read, or the parameters it supplies are taken for JSON
arguments: FastAPI's ``settings: Settings = Depends(get_settings)`` would reach the function as
the ``Depends`` object itself. An adapter registers its source when it is imported, but a
process whose task modules import only the framework (a plain ``asynq worker tasks:registry``)
never imports the adapter. So the adapters also declare their sources in the
``asynq.parameter_sources`` entry-point group, each named after the top-level package whose
marker objects it supplies::

    [project.entry-points."asynq.parameter_sources"]
    fastapi = "asynq_fastapi.depends:SOURCE"

Before a task function's parameters are laid out, the default and the ``Annotated`` metadata of
each one are looked at: an object whose class, or one of its base classes, comes from a package
named in the group has that package's sources loaded and registered (once per process; one
later removed with ``remove_parameter_source`` stays removed). An object of any other package
loads nothing and imports nothing, as with ``asynq.apps`` (:mod:`asynq._entry_points`). A source
that cannot be loaded refuses the task function with a :class:`~asynq.ValidationError` naming
the task, the parameter and what to install, rather than letting the marker object through.

Entry points live in the installed distributions' metadata: a source tree put on ``sys.path``
without being installed declares none (then only importing the adapter registers its source).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint
from typing import Annotated, Any

from asynq._entry_points import entry_points_for, load_entry_point
from asynq._functions.supplied import ParameterSource, add_parameter_source
from asynq.errors import ValidationError

__all__ = ["ENTRY_POINT_GROUP", "register_sources_for"]

#: The entry-point group of the parameter sources.
ENTRY_POINT_GROUP = "asynq.parameter_sources"

_VAR_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)

#: The entry points already loaded and registered, as (name, value).
_registered: set[tuple[str, str]] = set()


def register_sources_for(
    type_name: str, parameters: Iterable[inspect.Parameter], annotations: Mapping[str, Any]
) -> None:
    """Load and register the installed sources of the packages whose objects ``parameters``
    carry as defaults or ``Annotated`` metadata (``annotations``: resolved with their
    metadata, by parameter name).

    Raises:
        ValidationError: such a source cannot be loaded or is no parameter source; the message
            names the task ``type_name``, the parameter and what to install.
    """
    for parameter in parameters:
        if parameter.kind in _VAR_KINDS:
            continue  # never offered to a source
        annotation = annotations.get(parameter.name, parameter.annotation)
        for carried in _carried(parameter, annotation):
            for entry in entry_points_for(ENTRY_POINT_GROUP, type(carried)):
                if (entry.name, entry.value) not in _registered:
                    _register(entry, type_name, parameter.name, carried)


def _carried(parameter: inspect.Parameter, annotation: Any) -> list[Any]:
    """The objects a parameter carries: its default and its ``Annotated`` metadata."""
    carried = [] if parameter.default is parameter.empty else [parameter.default]
    if typing.get_origin(annotation) is Annotated:
        carried += typing.get_args(annotation)[1:]
    return carried


def _register(entry: EntryPoint, type_name: str, name: str, carried: object) -> None:
    marker = f"{type(carried).__module__}.{type(carried).__qualname__}"
    needs = f'task "{type_name}": parameter "{name}": its {marker} needs the {entry.name} source'
    try:
        source = load_entry_point(entry, "source")
    except ValidationError as exc:
        module = entry.value.partition(":")[0].strip()
        raise ValidationError(
            f"{needs}, which cannot be loaded: {exc}; install what {module} needs"
            f"{_install_hint(entry)}"
        ) from None
    if not isinstance(source, ParameterSource):
        raise ValidationError(
            f"{needs}, but the {ENTRY_POINT_GROUP} entry point {entry.name} = {entry.value!r} "
            f"names {source!r}, which has no claims() and prepare() methods"
        )
    add_parameter_source(source)
    _registered.add((entry.name, entry.value))


def _install_hint(entry: EntryPoint) -> str:
    """`` (pip install 'dist[extra]')`` when the declaring distribution has an extra named
    after the entry point, as ``asynq-python[fastapi]``; else nothing."""
    dist = entry.dist
    if dist is None or entry.name not in (dist.metadata.get_all("Provides-Extra") or []):
        return ""
    return f" (pip install '{dist.name}[{entry.name}]')"
