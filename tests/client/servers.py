"""Extra redis-server processes for connection tests: unix socket, TLS, a cluster over TLS,
Sentinel.

Each starts a real server; a missing binary or a server that does not come up is an error.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.helpers.redis_procs import RedisClusterProcs, RedisProcess, free_port, redis_binary


class SocketRedis:
    """A redis-server that also listens on a unix socket."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="asynq-sock-")
        self.path = f"{self.dir}/redis.sock"
        self.proc = RedisProcess(None, "--unixsocket", self.path, "--unixsocketperm", "700")

    def stop(self) -> None:
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _openssl(*args: str, cwd: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is needed to make the test certificates")
    subprocess.run([openssl, *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certificates(folder: str) -> None:
    """A throwaway CA, and a server certificate it signs for 127.0.0.1 and localhost."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=asynq test CA", cwd=folder)  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=folder)  # fmt: skip
    Path(folder, "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext",
             cwd=folder)  # fmt: skip


def tls_arguments(folder: str, port: int) -> list[str]:
    """redis-server arguments for a TLS port with the certificates of ``folder`` (see
    :func:`make_certificates`); clients are not asked for certificates."""
    return [
        "--tls-port",
        str(port),
        "--tls-cert-file",
        f"{folder}/server.crt",
        "--tls-key-file",
        f"{folder}/server.key",
        "--tls-ca-cert-file",
        f"{folder}/ca.crt",
        "--tls-auth-clients",
        "no",
    ]


class TlsRedis:
    """A redis-server with a TLS port (clients are not asked for certificates)."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="asynq-tls-")
        make_certificates(self.dir)
        self.ca = f"{self.dir}/ca.crt"
        self.tls_port = free_port()
        self.proc = RedisProcess(None, *tls_arguments(self.dir, self.tls_port))

    def stop(self) -> None:
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsRedisCluster:
    """A 3-master Redis Cluster whose nodes also take TLS clients, and speak TLS to each other.

    A TLS client is told the nodes' TLS ports (a plain one their plain ports), so
    ``rediss://127.0.0.1:<tls_ports[0]>`` with cluster mode reaches every master over TLS.
    """

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="asynq-tls-cluster-")
        make_certificates(self.dir)
        self.ca = f"{self.dir}/ca.crt"
        self.tls_ports: list[int] = []
        self.procs = RedisClusterProcs("--tls-cluster", "yes", per_node=self._tls_port)

    def _tls_port(self) -> list[str]:
        port = free_port()
        self.tls_ports.append(port)
        return tls_arguments(self.dir, port)

    def stop(self) -> None:
        self.procs.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class SentinelRedis:
    """A master redis-server and one Sentinel (quorum 1) monitoring it as ``mymaster``."""

    def __init__(self, master_name: str = "mymaster") -> None:
        self.master = RedisProcess()
        self.master_name = master_name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="asynq-sentinel-")
        conf = Path(self.dir, "sentinel.conf")
        conf.write_text(
            f"port {self.port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.dir}\n"
            f"sentinel monitor {master_name} 127.0.0.1 {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {master_name} 60000\n"
        )
        self.proc = subprocess.Popen(
            [redis_binary(), str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, decode_responses=True)
        try:
            while True:
                try:
                    addr = client.execute_command(
                        "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name
                    )
                    if addr and int(addr[1]) == self.master.port:
                        return
                except redis.ConnectionError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis sentinel did not start")
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
        self.master.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
