"""Build and run the Go peer programs in ``tests/go/cmd/*`` (real Go asynq v0.26.0).

The programs are built once per test process with ``go build -o <bin>/ ./cmd/...``; the output
directory is ``$ASYNQ_GO_PEER_BIN`` or ``tests/go/bin``. A missing Go toolchain is an error, never
a skip: interop is what proves wire compatibility.

A test that runs Go must be marked ``@pytest.mark.interop``: tests/conftest.py builds the peer
after collection only when a selected test carries the mark (so a session without one never
invokes ``go``), and running a Go program from an unmarked test is an error that says so.

Usage::

    from tests.helpers import gopeer

    out = gopeer.run_go_json("peer_inspect", "--redis", addr, "--queue", "default")
    proc = gopeer.start_go("peer_server", "--redis", addr)
    ...
    proc.stop()          # SIGTERM, wait, then SIGKILL if needed
    print(proc.output())  # captured stdout + stderr, for failure messages
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GO_DIR = Path(__file__).resolve().parent.parent / "go"


def _bin_dir() -> Path:
    env = os.environ.get("ASYNQ_GO_PEER_BIN")
    return Path(env).resolve() if env else GO_DIR / "bin"


@dataclass(frozen=True)
class _Test:
    nodeid: str
    declared: bool  # marked ``interop``


#: The test running now (set by tests/conftest.py around each test), ``None`` outside tests.
_current: _Test | None = None

#: The build's outcome once tried: the bin directory, or the error to raise again (a failed
#: build is not retried by every test that follows).
_built: Path | RuntimeError | None = None

#: The tests that ran at least one Go program, with the programs they ran (for the summary that
#: tests/conftest.py prints at the end of the run).
GO_USERS: dict[str, set[str]] = {}


@contextlib.contextmanager
def running_test(nodeid: str, *, declared: bool) -> Iterator[None]:
    """Attribute Go use to test ``nodeid`` while it runs; ``declared``: it is marked interop."""
    global _current
    outer, _current = _current, _Test(nodeid, declared)
    try:
        yield
    finally:
        _current = outer


def _check_declared() -> None:
    if _current is not None and not _current.declared:
        raise RuntimeError(
            f"{_current.nodeid} runs the Go peer but is not marked @pytest.mark.interop; mark it "
            "so that the peer is built before the run, and only for runs that need it"
        )


def build_go_peer() -> Path:
    """Build every program under ``tests/go/cmd`` (once per process); return the bin directory.

    Raises:
        RuntimeError: ``go`` is not installed or the build failed (output included), or the
            running test is not marked ``interop``.
    """
    global _built
    _check_declared()
    if _current is not None:  # counted in the summary even if it runs Go by other means
        GO_USERS.setdefault(_current.nodeid, set())
    if _built is None:
        try:
            _built = _build()
        except RuntimeError as e:
            _built = e
    if isinstance(_built, RuntimeError):
        raise RuntimeError(str(_built))
    return _built


def _build() -> Path:
    go = shutil.which("go")
    if go is None:
        raise RuntimeError(
            "the Go toolchain is not installed (`go` not on PATH): the Go interop tests need it; "
            "install Go >= 1.24 (https://go.dev/dl/)"
        )
    out = _bin_dir()
    out.mkdir(parents=True, exist_ok=True)
    # Several test processes (pytest-xdist) may build at once: serialise on a lock file.
    with open(out / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(
            [go, "build", "-o", str(out) + os.sep, "./cmd/..."],
            cwd=GO_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`go build ./cmd/...` in {GO_DIR} failed ({proc.returncode}):\n"
            f"{proc.stdout}{proc.stderr}"
        )
    return out


def binary(name: str) -> Path:
    """Path of the built Go program ``name`` (builds first if needed)."""
    path = build_go_peer() / name
    if _current is not None:
        GO_USERS.setdefault(_current.nodeid, set()).add(name)
    if not path.exists():
        raise RuntimeError(f"no Go peer program {name!r}: expected {GO_DIR}/cmd/{name}/main.go")
    return path


def _env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    if env is None:
        return None
    return {**os.environ, **env}


def run_go(
    name: str,
    *args: str,
    input: bytes | str | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run Go program ``name`` to completion and return the result (stdout/stderr as bytes).

    Does not check the exit status; see :func:`run_go_json` for that.
    """
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run(
        [str(binary(name)), *map(str, args)],
        input=data,
        capture_output=True,
        timeout=timeout,
        env=_env(env),
    )


def run_go_json(
    name: str,
    *args: str,
    input: bytes | str | Any | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
) -> Any:
    """Run Go program ``name`` and parse its stdout as JSON.

    ``input`` that is not bytes/str is sent JSON-encoded on stdin.

    Raises:
        RuntimeError: non-zero exit or unparsable stdout (stderr included in the message).
    """
    if input is not None and not isinstance(input, bytes | str):
        input = json.dumps(input)
    proc = run_go(name, *args, input=input, timeout=timeout, env=env)
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(
            f"Go peer {name} {' '.join(map(str, args))} exited {proc.returncode}:\n{stderr}"
        )
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        raise RuntimeError(
            f"Go peer {name} printed non-JSON stdout ({e}):\n"
            f"{proc.stdout.decode(errors='replace')}\nstderr:\n{stderr}"
        ) from e


class GoProcess(subprocess.Popen[bytes]):
    """A long-running Go peer whose stdout/stderr go to files (see :meth:`output`)."""

    stdout_path: Path
    stderr_path: Path

    def read_stdout(self) -> str:
        """Everything the program printed on stdout so far."""
        return self.stdout_path.read_text(errors="replace")

    def read_stderr(self) -> str:
        """Everything the program printed on stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        """Both streams, labelled, for assertion messages."""
        return f"--- stdout ---\n{self.read_stdout()}\n--- stderr ---\n{self.read_stderr()}"

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM (Go asynq's graceful shutdown), wait, then SIGKILL; return the exit code."""
        if self.poll() is None:
            self.send_signal(signal.SIGTERM)
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.wait()
        return int(self.returncode)


def start_go(name: str, *args: str, env: Mapping[str, str] | None = None) -> GoProcess:
    """Start Go program ``name`` in the background; the caller must :meth:`GoProcess.stop` it."""
    exe = binary(name)
    logdir = Path(tempfile.mkdtemp(prefix=f"asynq-go-{name}-"))
    out_path, err_path = logdir / "stdout", logdir / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = GoProcess(
            [str(exe), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=_env(env),
        )
    proc.stdout_path, proc.stderr_path = out_path, err_path
    return proc
