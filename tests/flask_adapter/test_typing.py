"""``mypy --strict`` checks the arguments of the Flask extension's task functions."""

from __future__ import annotations

import re
from pathlib import Path

from tests.functions.test_typing import SAMPLES, _mypy


def test_flask_task_functions_are_typed(tmp_path: Path) -> None:
    sample = SAMPLES / "flask_calls.py"
    out = _mypy(sample, tmp_path)
    errors = {int(m.group(1)) for m in re.finditer(r"flask_calls\.py:(\d+): error:", out)}
    lines = sample.read_text().splitlines()
    assert errors == {n for n, line in enumerate(lines, 1) if "# E:" in line}, out
