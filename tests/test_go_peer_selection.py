"""The Go peer is built only for sessions that select an ``interop`` test, and a test that runs
Go without the mark is told to add it (tests/conftest.py, tests/helpers/gopeer.py); the unit
tests run with neither Go nor redis-server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import gopeer

ROOT = Path(__file__).resolve().parent.parent


def test_a_test_not_marked_interop_may_not_run_go() -> None:
    with (
        gopeer.running_test("tests/x.py::test_unmarked", declared=False),
        pytest.raises(RuntimeError, match=r"test_unmarked .*not marked @pytest.mark.interop"),
    ):
        gopeer.run_go_json("peer_inspect")


def _pytest_with_failing_go(
    tmp_path: Path, *args: str, path: str | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run an inner pytest session with a `go` first on PATH that leaves a trace and fails;
    ``path``, if given, replaces the rest of PATH."""
    trace = tmp_path / "go-was-run"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "go").write_text(f'#!/bin/sh\n: >"{trace}"\necho "no go here" >&2\nexit 1\n')
    (fake / "go").chmod(0o755)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH'] if path is None else path}",
        "ASYNQ_GO_PEER_BIN": str(tmp_path / "go-bin"),
    }
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return inner, trace


def test_the_unit_tests_need_neither_go_nor_redis_server(tmp_path: Path) -> None:
    # The README's Python-only loop; PATH holds only the failing `go`: no redis-server either.
    inner, go_was_run = _pytest_with_failing_go(tmp_path, "tests/unit", path=str(tmp_path))
    assert inner.returncode == 0, inner.stdout + inner.stderr
    assert "Go interop: no test ran the Go peer" in inner.stdout
    assert not go_was_run.exists(), "go was invoked by a session without interop tests"


def test_a_session_with_interop_tests_builds_first_and_a_failed_build_fails_them(
    tmp_path: Path,
) -> None:
    inner, go_was_run = _pytest_with_failing_go(
        tmp_path, "tests/scheduler/test_cron.py", "-m", "interop"
    )
    assert go_was_run.exists()
    assert inner.returncode == 1, inner.stdout + inner.stderr
    assert "2 failed" in inner.stdout
    assert "go build ./cmd/...` in" in inner.stdout and "no go here" in inner.stdout
