"""Fixtures of the command-line tests.

- ``run(*args)``: invoke the ``asynq`` root command in-process (``click.testing.CliRunner``)
  against the test Redis; returns the ``Result`` (``.exit_code``, ``.stdout``, ``.stderr``).
- ``run_json(*args)``: the same with ``--json``, parsed, asserting exit status 0.
- ``client``: a real :class:`asynq.Client` on the test Redis, to seed tasks the way users do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

import asynq
from asynq.cli._root import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def run(runner: CliRunner, redis_url: str) -> Callable[..., Result]:
    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--uri", redis_url, *args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def run_json(run: Callable[..., Result]) -> Callable[..., Any]:
    def invoke(*args: str) -> Any:
        result = run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke


@pytest.fixture
def client(redis_url: str) -> Iterator[asynq.Client]:
    with asynq.Client(redis_url) as c:
        yield c
