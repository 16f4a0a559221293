"""A primary, one replica and three Sentinels (Debian's ``redis-sentinel``) that fail over fast.

The Sentinels need two votes (of three) to declare the primary down and elect a leader, as a
production quorum would, and give up on a silent primary after one second.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.helpers.redis_procs import RedisProcess, free_port

MASTER = "mymaster"


def sentinel_binary() -> str:
    path = shutil.which("redis-sentinel")
    if path is None:
        raise RuntimeError(
            "redis-sentinel is missing: run `scripts/test setup` (it apt-installs it)"
        )
    return path


class FailoverSet:
    """Primary + replica + 3 Sentinels on loopback."""

    def __init__(self) -> None:
        debug = ("--enable-debug-command", "local")  # DEBUG SEGFAULT, to crash the primary
        self.primary = RedisProcess(None, *debug)
        self.replica = RedisProcess(
            None, *debug, "--replicaof", "127.0.0.1", str(self.primary.port)
        )
        self.dir = tempfile.mkdtemp(prefix="asynq-failover-")
        self.ports = [free_port() for _ in range(3)]
        self.sentinels = [self._start_sentinel(i, port) for i, port in enumerate(self.ports)]
        self._wait_ready()

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.ports)
        return f"redis-sentinel://{hosts}?master={MASTER}"

    def _start_sentinel(self, index: int, port: int) -> subprocess.Popen[bytes]:
        conf = Path(self.dir, f"sentinel-{index}.conf")
        conf.write_text(
            f"port {port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.dir}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 10000\n"
            f"sentinel parallel-syncs {MASTER} 1\n"
        )
        return subprocess.Popen(
            [sentinel_binary(), str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

    def _ask(self, port: int, *command: str) -> object:
        client = redis.Redis(port=port, socket_connect_timeout=0.5, decode_responses=True)
        try:
            return client.execute_command(*command)
        finally:
            client.close()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        """Every Sentinel knows the primary, the replica and the two other Sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if all(self._sentinel_ready(port) for port in self.ports):
                    return
            except redis.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the Sentinels did not discover the replica and each other")

    def _sentinel_ready(self, port: int) -> bool:
        master = self._ask(port, "SENTINEL", "MASTER", MASTER)
        assert isinstance(master, dict)
        return int(master["num-slaves"]) >= 1 and int(master["num-other-sentinels"]) >= 2

    def master_port(self) -> int:
        """The primary's port as the first Sentinel reports it."""
        addr = self._ask(self.ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        assert isinstance(addr, list)
        return int(addr[1])

    def sync_replica(self, timeout: float = 30.0) -> None:
        """Wait until the replica has every write the primary had when this was called."""
        primary = redis.Redis(port=self.primary.port)
        replica = redis.Redis(port=self.replica.port)
        try:
            target = int(primary.info("replication")["master_repl_offset"])
            deadline = time.monotonic() + timeout
            while int(replica.info("replication").get("slave_repl_offset", -1)) < target:
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not catch up with the primary")
                time.sleep(0.01)
        finally:
            primary.close()
            replica.close()

    def stop(self) -> None:
        for proc in self.sentinels:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.primary.stop()  # also after kill(): it removes the data directory
        self.replica.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
