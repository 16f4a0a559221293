"""The ``asynq.apps`` plug-in point: which loaders are asked about an object, in what order,
what ``run_worker`` hands the one that recognises it; and that the bundled adapters' loaders
are installed as pyproject.toml declares them.

The plug-in tests register a real entry point: a distribution's metadata (``*.dist-info``) in
a directory put on ``sys.path``, as ``pip install`` leaves it."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

import asynq
from asynq.apps import ENTRY_POINT_GROUP, AppWorker, find_app_worker
from asynq.runner import load_worker, run_worker
from tests.helpers.plugins import install_plugin

ROOT = Path(__file__).resolve().parents[2]

#: A framework: its apps are no handlers (they take three arguments, as ASGI apps do).
FRAMEWORK = """
class App:
    def __call__(self, scope, receive, send): ...

class Router: ...
"""
#: Its adapter's loader, which notes what it was asked and what its worker ran with.
ADAPTER = """
import framework_x
from asynq.apps import AppWorker

asked = []
runs = []

def loader(obj):
    asked.append(obj)
    if isinstance(obj, framework_x.Router):
        return "not an AppWorker"
    if not isinstance(obj, framework_x.App):
        return None
    return AppWorker(obj, runs.append)
"""
#: The user's code: an app of a subclass defined outside the framework.
USER = """
import framework_x

class MyApp(framework_x.App): ...

app = MyApp()
router = framework_x.Router()

def handler(task): ...

async def asgi_app(scope, receive, send): ...
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``framework_x`` and its adapter ``framework_x_asynq``, registered under the name
    ``framework_x``; yields the adapter module once imported (``None`` before)."""
    install_plugin(
        tmp_path,
        monkeypatch,
        distribution="framework-x-asynq",
        modules={"framework_x": FRAMEWORK, "framework_x_asynq": ADAPTER, "user_code": USER},
        entry_points={ENTRY_POINT_GROUP: {"framework_x": "framework_x_asynq:loader"}},
    )
    yield lambda: sys.modules.get("framework_x_asynq")


def test_an_app_of_a_subclass_reaches_its_frameworks_loader(plugin: Any) -> None:
    worker = load_worker("user_code:app")
    assert isinstance(worker, AppWorker)
    assert worker.app is sys.modules["user_code"].app
    assert plugin().asked == [worker.app]


def test_a_handler_reaches_no_loader_and_imports_no_adapter(plugin: Any) -> None:
    assert load_worker("user_code:handler") is sys.modules["user_code"].handler
    assert find_app_worker(asynq.ServeMux()) is None
    assert plugin() is None  # never imported


def test_run_worker_hands_the_apps_worker_the_checked_settings(plugin: Any) -> None:
    status = run_worker(
        "user_code:app", {"CONCURRENCY": 3, "queues": {"mail": 2}}, redis="redis://x", burst=True
    )
    assert status == 0
    [run] = plugin().runs
    assert dict(run.overrides) == {"concurrency": 3, "queues": {"mail": 2}}
    assert (run.redis, run.burst) == ("redis://x", True)


def test_bad_settings_and_a_bad_loader_are_one_logged_line(
    plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert run_worker("user_code:app", {"concurency": 3}) == 1
    assert run_worker("user_code:app", asynq.server.Config()) == 1
    assert run_worker("user_code:router") == 1
    errors = [r.getMessage() for r in caplog.records if r.name == "asynq.runner"]
    assert len(errors) == 3
    assert "unknown Config setting 'concurency'" in errors[0]
    assert "an app's worker takes its Config from the app" in errors[1]
    assert "returned str, not an AppWorker or None" in errors[2]
    assert plugin().runs == []


def test_an_app_no_loader_recognises_is_no_handler(plugin: Any) -> None:
    with pytest.raises(asynq.ValidationError, match="is not a handler: it takes 3 arguments"):
        load_worker("user_code:asgi_app")  # no loader is named after user_code
    assert plugin() is None


def test_the_bundled_adapters_loaders_are_installed_as_declared() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    installed = {e.name: e.value for e in entry_points(group=ENTRY_POINT_GROUP)}
    # A mismatch means stale metadata: reinstall the project (pip install -e '.[all,dev]').
    assert installed == declared[ENTRY_POINT_GROUP]
    assert set(installed) == {"starlette", "flask"}
