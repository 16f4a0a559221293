"""scripts/test picks its stages from its arguments: everything with none (and under CI), only
setup and pytest with pytest arguments, the benchmarks alone with --bench. Checked through
--dry-run, which prints the plan and runs nothing."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def plan(*args: str, ci: bool = False) -> tuple[list[str], list[str]]:
    """(stages, commands) that ``bash scripts/test --dry-run ARGS`` would run."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    out = subprocess.run(
        ["bash", "scripts/test", "--dry-run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    stages = re.findall(r"^== \[\d+s\] (\w+)$", out, re.MULTILINE)
    commands = re.findall(r"^   \$ (.*)$", out, re.MULTILINE)
    return stages, commands


def test_no_arguments_run_every_stage_with_benchmarks_after_the_tests() -> None:
    stages, commands = plan()
    assert stages == ["setup", "checks", "pytest", "django", "benchmarks"]
    assert ".venv/bin/python -m pytest" in commands
    assert ".venv/bin/mypy" in commands
    assert "timeout 600 .venv/bin/python -m benchmarks.run" in commands
    # The peer table's smoke run comes last, after this library's own benchmarks.
    assert commands[-1] == (
        "timeout 300 .venv/bin/python -m benchmarks.peers --quick --peers rq,taskiq"
    )


def test_pytest_arguments_run_only_setup_and_pytest() -> None:
    stages, commands = plan("-k", "inspector", "-x")
    assert stages == ["setup", "pytest"]
    assert ".venv/bin/python -m pytest -k inspector -x" in commands
    assert not any("go build" in c or "benchmarks" in c or "django" in c for c in commands)


def test_ci_runs_every_stage_whatever_the_arguments() -> None:
    stages, commands = plan("-k", "inspector", ci=True)
    assert stages == ["setup", "checks", "pytest", "django", "benchmarks"]
    assert ".venv/bin/python -m pytest -k inspector" in commands


def test_bench_runs_the_benchmarks_alone_with_their_arguments() -> None:
    stages, commands = plan("--bench", "--only", "enqueue")
    assert stages == ["setup", "benchmarks"]
    assert commands[-1] == "timeout 600 .venv/bin/python -m benchmarks.run --only enqueue"


def test_checks_alone_need_no_redis_or_go() -> None:
    stages, commands = plan("--checks")
    assert stages == ["setup", "checks"]
    assert not any(c.startswith(("go ", "as_root")) for c in commands)


def test_help_names_every_mode() -> None:
    out = subprocess.run(
        ["bash", "scripts/test", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for option in ("--dry-run", "--bench", "--checks", "--no-bench", "--setup", "CI=true"):
        assert option in out


def test_ci_and_the_readme_run_the_same_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^bash scripts/test +# .*what CI runs", readme, re.MULTILINE)
    assert "exec bash scripts/test\n" in (ROOT / ".ci" / "run").read_text()
