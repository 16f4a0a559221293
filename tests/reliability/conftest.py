"""Fixtures of the reliability tests: the CLI runner of tests/cli (``run``) on the test Redis."""

from tests.cli.conftest import run, runner

__all__ = ["run", "runner"]
