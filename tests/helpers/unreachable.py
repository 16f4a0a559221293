"""A Redis address where nothing listens, and what a burst worker must say when given one."""

from __future__ import annotations

from tests.helpers.redis_procs import free_port


def nowhere() -> str:
    """The URL of a loopback port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


def assert_burst_refused(output: str, url: str) -> None:
    """``output`` (a burst worker's stderr) says once why it stopped and where it could not
    connect; no traceback, and never that the queues are drained."""
    address = url.removeprefix("redis://")
    said = [line for line in output.splitlines() if "burst mode cannot reach Redis" in line]
    assert len(said) == 1, output
    assert f"cannot reach Redis at {address}: " in said[0], output
    assert "Traceback" not in output
    assert "drained" not in output
