"""Assertions shared by the command-line tests."""

from __future__ import annotations

from click.testing import Result


def fails(result: Result, code: int = 1) -> str:
    """Assert a clean failure (status ``code``, no traceback) and return its stderr."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.stderr
