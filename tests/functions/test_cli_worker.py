"""``asynq worker module:registry`` runs the task functions of a registry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asynq

ROOT = Path(__file__).resolve().parents[2]

APP = textwrap.dedent(
    """
    import asynq

    registry = asynq.TaskRegistry()


    @registry.task("cli:add")
    def add(a: int, b: int) -> int:
        return a + b


    @registry.task("cli:shout")
    async def shout(word: str) -> str:
        return word.upper() + "!"
    """
)


def test_the_worker_command_runs_a_registry(tmp_path: Path, redis_url: str) -> None:
    (tmp_path / "fn_cli_app.py").write_text(APP)
    with asynq.Client(redis_url) as client, asynq.Inspector(redis_url) as inspector:
        # What any producer (a Go service too) sends: the arguments as one JSON object.
        add = client.enqueue(asynq.Task.from_json("cli:add", {"a": 2, "b": 3}), retention=60)
        shout = client.enqueue(asynq.Task.from_json("cli:shout", {"word": "hi"}), retention=60)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "asynq",
                "--uri",
                redis_url,
                "worker",
                "fn_cli_app:registry",
                "--app-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            env={**os.environ, "ASYNQ_REDIS_URL": redis_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            results: dict[str, bytes | None] = {}
            while time.monotonic() < deadline and len(results) < 2:
                for info in (add, shout):
                    got = inspector.get_task_info("default", info.id)
                    if got.state is asynq.TaskState.COMPLETED:
                        results[info.type] = got.result
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
    assert results == {"cli:add": b"5", "cli:shout": b'"HI!"'}, out
    assert proc.returncode == 0, out
