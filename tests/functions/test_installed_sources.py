"""Parameter sources found through the ``asynq.parameter_sources`` entry points: a parameter
carrying an object of a framework (as default or ``Annotated`` metadata) registers that
framework's installed source before the parameters are read, without the adapter ever being
imported by the user's code; objects of other packages import nothing; a source that cannot be
loaded refuses the task function, naming task, parameter and what to install; the bundled
adapters' sources are installed as pyproject.toml declares them.

The plug-ins are real entry points: a distribution's metadata in a directory on ``sys.path``.
The annotations stay objects here (no ``from __future__ import annotations``): the task
functions are local, and their markers come from a module imported by the fixture."""

import datetime
import json
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import pytest

import asynq
from asynq._functions import installed_sources
from asynq._functions.installed_sources import ENTRY_POINT_GROUP
from tests.helpers.plugins import install_plugin

ROOT = Path(__file__).resolve().parents[2]

#: A framework whose markers stand for values it makes (as FastAPI's ``Depends``).
FRAMEWORK = """
class Marker:
    def __init__(self, value):
        self.value = value

class Plain: ...
"""
#: Its adapter: supplies each parameter carrying a Marker with the marker's value.
ADAPTER = """
import typing
from contextlib import asynccontextmanager

import framework_y


def marker(parameter, annotation):
    carried = [parameter.default, *getattr(annotation, "__metadata__", ())]
    found = [c for c in carried if isinstance(c, framework_y.Marker)]
    return found[0] if found else None


class Supplier:
    def __init__(self, values):
        self.values = values

    @asynccontextmanager
    async def supply(self, task):
        yield self.values


class MarkerSource:
    def claims(self, parameter, annotation):
        return marker(parameter, annotation) is not None

    def prepare(self, fn, type_name, parameters):
        return Supplier({c.name: marker(c.parameter, c.annotation).value for c in parameters})


SOURCE = MarkerSource()
NOT_A_SOURCE = object()
"""
#: A framework whose adapter cannot be imported (a dependency of it is missing).
BROKEN_FRAMEWORK = """
class Marker: ...
"""
BROKEN_ADAPTER = """
import framework_z_needs_this  # not installed
SOURCE = None
"""
#: A framework whose entry point names something that is no parameter source.
ODD_FRAMEWORK = """
class Marker: ...
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The frameworks and their adapters, declared by one distribution that has an extra per
    framework; yields the ``framework_y`` module (imported, as user code does) and undoes the
    registration of its source afterwards."""
    install_plugin(
        tmp_path,
        monkeypatch,
        distribution="frameworks-asynq",
        modules={
            "framework_y": FRAMEWORK,
            "framework_y_asynq": ADAPTER,
            "framework_z": BROKEN_FRAMEWORK,
            "framework_z_asynq": BROKEN_ADAPTER,
            "framework_w": ODD_FRAMEWORK,
        },
        entry_points={
            ENTRY_POINT_GROUP: {
                "framework_y": "framework_y_asynq:SOURCE",
                "framework_z": "framework_z_asynq:SOURCE",
                "framework_w": "framework_y_asynq:NOT_A_SOURCE",
            }
        },
        extras=("framework_y", "framework_z"),
    )
    monkeypatch.setattr(installed_sources, "_registered", set())
    import framework_y  # type: ignore[import-not-found]

    yield framework_y
    adapter = sys.modules.get("framework_y_asynq")
    if adapter is not None:
        asynq.remove_parameter_source(adapter.SOURCE)


def adapter_imported() -> bool:
    return "framework_y_asynq" in sys.modules


def test_a_marker_registers_its_source_without_the_adapter_imported(plugin: Any) -> None:
    class OwnMarker(plugin.Marker):  # a subclass of the user's still reaches the framework's
        pass

    registry = asynq.TaskRegistry()
    seven = OwnMarker(7)
    assert not adapter_imported()

    @registry.task("installed:add")
    def add(n: int, a: Annotated[int, plugin.Marker(5)], b: int = seven) -> list[int]:
        return [n, a, b]

    assert adapter_imported()
    assert json.loads(add.task(1).payload) == {"n": 1}  # supplied parameters do not travel
    with pytest.raises(asynq.ValidationError, match="unexpected keyword argument 'b'"):
        add.task(1, b=2)  # type: ignore[call-arg]
    with asynq.eager():
        assert json.loads(add.enqueue(1).result or b"") == [1, 5, 7]


def test_objects_of_other_packages_import_no_adapter(plugin: Any) -> None:
    registry = asynq.TaskRegistry()

    day = datetime.date(2024, 1, 2)

    @registry.task("installed:plain")
    def plain(when: datetime.date = day, word: str = "hi") -> str:
        return f"{word} {when}"

    with asynq.eager():
        assert json.loads(plain.enqueue().result or b"") == "hi 2024-01-02"
    assert not adapter_imported()


def test_a_source_that_cannot_be_loaded_refuses_the_task_function(plugin: Any) -> None:
    import framework_z  # type: ignore[import-not-found]

    registry = asynq.TaskRegistry()
    with pytest.raises(asynq.ValidationError) as caught:

        @registry.task("installed:broken")
        def broken(n: int, made: Annotated[int, framework_z.Marker()]) -> None: ...

    message = str(caught.value)
    assert message.startswith(
        'task "installed:broken": parameter "made": its framework_z.Marker needs the '
        "framework_z source, which cannot be loaded: cannot load the asynq.parameter_sources "
        "source framework_z = 'framework_z_asynq:SOURCE' (declared by frameworks-asynq): "
    )
    assert "No module named 'framework_z_needs_this'" in message
    assert message.endswith(
        "install what framework_z_asynq needs (pip install 'frameworks-asynq[framework_z]')"
    )


def test_an_entry_point_naming_no_source_refuses_the_task_function(plugin: Any) -> None:
    import framework_w  # type: ignore[import-not-found]

    registry = asynq.TaskRegistry()
    marker = framework_w.Marker()
    with pytest.raises(asynq.ValidationError) as caught:

        @registry.task("installed:odd")
        def odd(made: int = marker) -> None: ...

    assert str(caught.value).startswith(
        'task "installed:odd": parameter "made": its framework_w.Marker needs the framework_w '
        "source, but the asynq.parameter_sources entry point framework_w = "
        "'framework_y_asynq:NOT_A_SOURCE' names <object object at "
    )
    assert str(caught.value).endswith("which has no claims() and prepare() methods")


def test_a_source_is_registered_once_and_stays_removed(plugin: Any) -> None:
    registry = asynq.TaskRegistry()
    one = plugin.Marker(1)

    @registry.task("installed:first")
    def first(a: int = one) -> None: ...

    source = sys.modules["framework_y_asynq"].SOURCE
    asynq.remove_parameter_source(source)

    @registry.task("installed:second")
    def second(a: int = one) -> None: ...

    # Removed on purpose: the marker is an ordinary default again, as before any source.
    assert json.loads(second.task(a=3).payload) == {"a": 3}


def test_the_bundled_sources_are_installed_as_declared() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    installed = {e.name: e.value for e in entry_points(group=ENTRY_POINT_GROUP)}
    # A mismatch means stale metadata: reinstall the project (pip install -e '.[all,dev]').
    assert installed == declared[ENTRY_POINT_GROUP]
    assert installed == {"fastapi": "asynq_fastapi.depends:SOURCE"}
