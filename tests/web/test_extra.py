"""Without the ``web`` extra, importing the dashboard says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from asynq.cli._root import cli


def test_import_without_starlette_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "try:\n    import asynq.web\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.startswith("MissingDependencyError")
    assert "pip install 'asynq-python[web]'" in done.stdout


def test_dash_without_uvicorn_prints_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(cli, ["dash"])
    assert result.exit_code == 1
    assert "pip install 'asynq-python[web]'" in result.stderr
