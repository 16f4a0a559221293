"""Helpers for running the Go peer programs (tests/go/cmd/srv_*, peer_*) from server tests."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from tests.helpers import gopeer
from tests.helpers.waiting import wait_until


def addr(redis_url: str) -> str:
    """``host:port`` of a redis:// URL, for the Go programs' ``-redis`` flag."""
    parts = urlsplit(redis_url)
    return f"{parts.hostname}:{parts.port}"


def go_json(name: str, redis_url: str, *args: str, input: Any = None) -> Any:
    """Run a Go program against ``redis_url`` and parse its JSON output."""
    return gopeer.run_go_json(name, "-redis", addr(redis_url), *args, input=input)


def go_enqueue(redis_url: str, specs: list[dict[str, Any]]) -> list[str]:
    """Enqueue with Go's Client (peer_enqueue); payloads given as bytes; return the ids."""
    for spec in specs:
        if spec.get("payload") is not None:
            spec["payload"] = base64.b64encode(spec["payload"]).decode()
    results = go_json("peer_enqueue", redis_url, input=specs)
    assert all(not r["error"] for r in results), results
    return [r["info"]["id"] for r in results]


def go_events(proc: gopeer.GoProcess, event: str = "done") -> list[dict[str, Any]]:
    """The JSON lines with ``"event": event`` that srv_server printed so far."""
    lines = [json.loads(line) for line in proc.read_stdout().splitlines() if line.strip()]
    return [e for e in lines if e.get("event") == event]


async def wait_started(proc: gopeer.GoProcess) -> None:
    """Wait until srv_server printed "started" (fails if it exited)."""
    await wait_until(lambda: go_events(proc, "started") or proc.poll() is not None, within=20)
    assert proc.poll() is None, proc.output()
