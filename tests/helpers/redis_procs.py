"""Start real redis-server processes on free loopback ports: one standalone, one 3-master cluster.

Missing ``redis-server`` is an error, never a skip: every test here needs the real thing.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence

import redis


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port that is free, and whose cluster bus port (port + 10000) is free too.

    Drawn from 20000-49999 so the bus port stays valid; never 6379.
    """
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(20000, 50000)
        if _is_free(port) and _is_free(port + 10000):
            return port


def redis_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError("redis-server is not installed: run `apt-get install -y redis-server`")
    return path


class RedisProcess:
    """One redis-server child process on 127.0.0.1."""

    def __init__(self, port: int | None = None, *extra: str) -> None:
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="asynq-redis-")
        self._argv = [
            redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            self.dir,
            *extra,
        ]
        self.proc = self._spawn()
        self.wait_ready()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL the server (no shutdown save): what a crash or an OOM kill looks like."""
        self.proc.kill()
        self.proc.wait()

    def restart(self, *, wait: bool = True) -> None:
        """Start the server again on the same port and data directory (after :meth:`kill`)."""
        self.proc = self._spawn()
        if wait:
            self.wait_ready(timeout=30.0)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"redis-server on port {self.port} did not start"
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisClusterProcs:
    """Three cluster-enabled redis-servers joined into one cluster with no replicas."""

    def __init__(self, *extra: str, per_node: Callable[[], Sequence[str]] = tuple) -> None:
        """``extra``: more redis-server arguments for every node (e.g. to turn on AOF);
        ``per_node()`` is called once per node for arguments of its own (e.g. a TLS port)."""
        self.nodes = [
            RedisProcess(
                None,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                *extra,
                *per_node(),
            )
            for _ in range(3)
        ]
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is missing (it ships with redis-server)")
        addrs = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addrs, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            timeout=60,
        )
        self._wait_ok()

    @property
    def addrs(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", n.port) for n in self.nodes]

    @property
    def url(self) -> str:
        return "redis-cluster://" + ",".join(f"{h}:{p}" for h, p in self.addrs)

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Wait until every node reports ``cluster_state:ok``."""
        self._wait_ok(timeout)

    def _wait_ok(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = True
            for n in self.nodes:
                info = redis.Redis(port=n.port).execute_command("CLUSTER", "INFO")
                text = info.decode() if isinstance(info, bytes) else str(info)
                ok = ok and "cluster_state:ok" in text
            if ok:
                return
            time.sleep(0.1)
        raise RuntimeError("the 3-master test cluster did not reach cluster_state:ok")

    def flushall(self) -> None:
        for n in self.nodes:
            redis.Redis(port=n.port).flushall()

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()
