"""The entry points: ``python -m asynq``, the ``asynq`` console script, ``asynq.cli.main``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

import asynq
from asynq._base import keys
from asynq.cli import INSTALL_HINT, main

ROOT = Path(__file__).resolve().parents[2]


def _python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_python_dash_m_round_trip(redis_url: str, r: redis.Redis) -> None:
    done = _python("-m", "asynq", "--uri", redis_url, "task", "enqueue", "-t", "hello", "-l", "hi")
    assert done.returncode == 0, done.stderr
    listed = _python("-m", "asynq", "--uri", redis_url, "task", "ls", "-q", "default", "-s",
                     "pending", "--json")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    [task] = json.loads(listed.stdout)
    assert (task["type"], task["payload"]) == ("hello", "hi")
    assert r.hget(keys.task_key("default", task["id"]), "state") == b"pending"


def test_python_dash_m_error_exit(redis_url: str) -> None:
    done = _python("-m", "asynq", "--uri", redis_url, "queue", "inspect", "missing")
    assert done.returncode == 1
    assert done.stderr.strip() == 'error: queue "missing" does not exist'
    assert "Traceback" not in done.stderr


def test_console_script() -> None:
    script = Path(sys.executable).with_name("asynq")
    assert script.exists(), "the asynq console script is not installed in this environment"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert done.stdout.startswith(f"asynq version {asynq.__version__}")


def test_missing_click_prints_install_hint() -> None:
    code = "import sys; sys.modules['click'] = None; from asynq.cli import main; main(['stats'])"
    done = _python("-c", code)
    assert done.returncode == 1
    assert done.stderr.strip() == INSTALL_HINT
    assert "pip install 'asynq-python[cli]'" in done.stderr


def test_main_function(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with asynq.Client(redis_url) as c:
        c.enqueue(asynq.Task("t"), queue="from-main")
    with pytest.raises(SystemExit) as exit_info:
        main(["--uri", redis_url, "queue", "ls"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == "from-main\n"


def test_help_lists_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["queue", "--help"])
    out = capsys.readouterr().out
    assert "remove, delete, rm" in out and "resume, unpause" in out
