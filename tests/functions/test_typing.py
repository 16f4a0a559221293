"""Type checkers check the arguments of ``enqueue`` like those of a call: ``mypy --strict``
passes on tests/typing/valid_calls.py and reports each bad call of invalid_calls.py. A FastAPI
route's ``client: AsynqClient`` is an ``AsyncClient`` to them (asynq_fastapi ships py.typed,
which scripts/check_wheel.py requires in the wheel)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "typing"


def _mypy(path: Path, tmp: Path) -> str:
    # A config of its own: the project's would also check the whole package.
    config = tmp / "mypy.ini"
    config.write_text("[mypy]\n")
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-error-summary"),
            *("--cache-dir", str(tmp / "cache"), "--config-file", str(config), str(path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.stdout + proc.stderr


def test_valid_calls_pass(tmp_path: Path) -> None:
    assert _mypy(SAMPLES / "valid_calls.py", tmp_path) == ""


def test_wrong_calls_are_reported(tmp_path: Path) -> None:
    out = _mypy(SAMPLES / "invalid_calls.py", tmp_path)
    errors = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r"invalid_calls\.py:(\d+): error: (.*)", out)
    }
    lines = (SAMPLES / "invalid_calls.py").read_text().splitlines()
    expected = {n for n, line in enumerate(lines, 1) if "# E:" in line}
    assert set(errors) == expected, out
    line = {text.split("  # E:")[0]: n for n, text in enumerate(lines, 1) if "# E:" in text}
    assert (
        'Argument 1 to "enqueue" of "TaskFunction" has incompatible type "str"; expected "int"'
        in errors[line['send_welcome.enqueue("42")']]
    )
    assert (
        'Unexpected keyword argument "templat"'
        in errors[line['send_welcome.enqueue(42, templat="x")']]
    )
    assert 'Missing positional argument "user_id"' in errors[line["send_welcome.enqueue()"]]
    assert (
        'Argument "template" to "task" of "TaskFunction" has incompatible type "int"'
        in errors[line['send_welcome.using(queue="low").task(42, template=3)']]
    )
    assert 'incompatible type "int"; expected "str"' in errors[line["takes_task.enqueue(1)"]]
    assert (
        'Argument "database" to "using" of "TaskFunction" has incompatible type "int"'
        in errors[line["send_welcome.using(database=1).enqueue(42)"]]
    )
    assert (
        'Missing positional argument "prefix" in call to "enqueue"'
        in errors[line["ship.enqueue(order_id=1)"]]
    )
    assert (
        'Incompatible types in assignment (expression has type "str", variable has type "int")'
        in errors[line['number: int = send_welcome.result("id")']]
    )
    assert (
        'Argument 1 to "enqueue" of "AsyncClient" has incompatible type "str"; expected "Task"'
        in errors[line['    await client.enqueue("typing:route")']]
    )
