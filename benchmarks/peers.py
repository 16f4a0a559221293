"""This library beside Go asynq v0.26.0 and the Python task queues people pick instead.

Usage (from the repository root, with the dev environment)::

    python -m benchmarks.peers                      # everything, 5,000 tasks a scenario
    python -m benchmarks.peers --peers rq,arq --n 1000
    python -m benchmarks.peers --quick              # 200 tasks, 1 round: a smoke run
    python -m benchmarks.peers --json out.json --charts docs/benchmarks

Each peer is installed from PyPI, at the pinned versions of :data:`PEERS`, into a venv of
its own under ``.bench-venvs/`` (made once, and again when its requirements change), and runs
``benchmarks/peer_drivers/<peer>.py`` with that venv's Python. Everything runs in one go on
one redis-server of the runner's own (a free loopback port, flushed before each measurement),
and the table puts the peers side by side, with each figure's ratio to Go asynq. The
scenarios and what differs between the peers: ``docs/benchmarks.md``.

Charts (``--charts DIR``) are drawn with matplotlib from a venv of their own too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.core import Env, go_bin_dir
from benchmarks.worker_common import start_go
from benchmarks.worker_drain import drain_once
from tests.helpers.redis_procs import RedisProcess

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".bench-venvs"
DRIVERS = Path(__file__).resolve().parent / "peer_drivers"

SCENARIOS = {
    "enqueue_seq": "enqueue, sequential (tasks/s)",
    "enqueue_conc": "enqueue, 8 concurrent (tasks/s)",
    "drain": "drain no-op, concurrency 10 (tasks/s)",
}
#: The drain's second figure.
DRAIN_CPU = "drain CPU-s per 1k tasks"

THIS = "asynq-python"
GO = "go-asynq"


@dataclass(frozen=True)
class Peer:
    """A queue to compare: its PyPI requirements (pinned) and its driver script."""

    name: str
    requirements: tuple[str, ...]
    driver: str


#: hiredis everywhere: redis-py's documented speed-up for reply parsing (this library uses it).
PEERS = {
    p.name: p
    for p in [
        Peer("celery", ("celery[redis]==5.7.0", "hiredis==3.5.0"), "celery_peer.py"),
        Peer("rq", ("rq==3.0.0", "hiredis==3.5.0"), "rq_peer.py"),
        Peer("dramatiq", ("dramatiq[redis]==2.2.1", "hiredis==3.5.0"), "dramatiq_peer.py"),
        Peer("arq", ("arq==0.28.0", "hiredis==3.5.0"), "arq_peer.py"),
        # saq 0.26.4 imports typing_extensions without declaring it.
        Peer("saq", ("saq[hiredis]==0.26.4", "typing_extensions"), "saq_peer.py"),
        Peer(
            "taskiq",
            ("taskiq==0.13.0", "taskiq-redis==1.2.4", "hiredis==3.5.0"),
            "taskiq_peer.py",
        ),
    ]
}
CHART_REQUIREMENTS = ("matplotlib==3.10.7",)


def venv_python(name: str, requirements: Sequence[str]) -> Path:
    """The Python of ``.bench-venvs/<name>``, created and filled with ``requirements`` when
    missing or when its requirements changed."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    want = "\n".join(requirements)
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python
    print(f"installing {name} into {venv} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *requirements], check=True)
    stamp.write_text(want)
    return python


def run_driver(python: Path | str, driver: str, scenario: str, env: Env, n: int) -> dict[str, Any]:
    """Run one driver scenario and return the JSON object it printed."""
    argv = [str(python), str(DRIVERS / driver), scenario, "--redis", env.redis_url]
    argv += ["--n", str(n), "--rounds", str(env.rounds)]
    # This library's driver imports it from this checkout; the peers' venvs never see it.
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=environ, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(
            f"{driver} {scenario} failed ({out.returncode}):\n{out.stderr[-3000:]}{out.stdout}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _flush(env: Env) -> None:
    r = env.raw()
    r.flushall()
    r.close()


def measure_go(env: Env, scenario: str, n: int) -> dict[str, Any]:
    """Go asynq v0.26.0: its client from 1 or 8 goroutines, or its server draining."""
    if scenario == "drain":
        d = drain_once(env, n, lambda: start_go(env, "bench_srv_drain"))
        return {"tasks_per_sec": d.tasks_per_sec, "cpu_s_per_1k": d.cpu_s_per_1k}
    goroutines = 1 if scenario == "enqueue_seq" else 8
    out = env.run_go_json(
        "bench_enqueue",
        *("-redis", env.redis_addr, "-n", str(n), "-rounds", str(env.rounds)),
        *("-goroutines", str(goroutines), "-payload", "0", "-type", "bench:noop"),
        *("-queue", "default"),
    )
    return {"tasks_per_sec": n / float(out["seconds"])}


def run_all(env: Env, peers: Sequence[str], n: int) -> dict[str, dict[str, Any]]:
    """Every scenario for Go, this library and ``peers``:
    ``{impl: {"version": ..., scenario: figures}}``."""
    pythons = {name: venv_python(name, PEERS[name].requirements) for name in peers}
    results: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        if env.go_bin is not None:
            print(f"running {GO} {scenario} ...", file=sys.stderr, flush=True)
            _flush(env)
            results.setdefault(GO, {"version": "v0.26.0"})[scenario] = measure_go(env, scenario, n)
        impls = [(THIS, sys.executable, "asynq_python.py")]
        impls += [(name, str(pythons[name]), PEERS[name].driver) for name in peers]
        for name, python, driver in impls:
            print(f"running {name} {scenario} ...", file=sys.stderr, flush=True)
            _flush(env)
            out = run_driver(python, driver, scenario, env, n)
            entry = results.setdefault(name, {})
            entry["version"] = out.pop("version")
            out.pop("library", None)
            entry[scenario] = out
    return results


def columns() -> list[tuple[str, str, str]]:
    """(scenario, figure, heading) of each table column."""
    cols = [(s, "tasks_per_sec", heading) for s, heading in SCENARIOS.items()]
    return [*cols, ("drain", "cpu_s_per_1k", DRAIN_CPU)]


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """One line per implementation, one column per figure, each with its ratio to Go."""
    go = results.get(GO, {})
    heads = ["queue (version)"] + [h for _, _, h in columns()]
    body: list[list[str]] = []
    for name, entry in results.items():
        row = [f"{name} {entry['version']}"]
        for scenario, figure, _ in columns():
            value = entry.get(scenario, {}).get(figure)
            ref = go.get(scenario, {}).get(figure)
            cell = "—" if value is None else _fmt(value)
            if value is not None and ref and name != GO:
                cell += f" ({value / ref:.2f}x)"
            row.append(cell)
        body.append(row)
    widths = [max(len(r[i]) for r in [heads, *body]) for i in range(len(heads))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [heads, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def draw_charts(results_json: Path, out_dir: Path) -> None:
    """PNG charts of a results file, drawn by ``benchmarks/peer_charts.py`` in its own venv."""
    python = venv_python("charts", CHART_REQUIREMENTS)
    chart = Path(__file__).resolve().parent / "peer_charts.py"
    subprocess.run([str(python), str(chart), str(results_json), str(out_dir)], check=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset")
    parser.add_argument("--n", type=int, default=5000, help="tasks per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="enqueue rounds (the best counts)")
    parser.add_argument("--quick", action="store_true", help="200 tasks, 1 round")
    parser.add_argument("--no-go", action="store_true", help="leave Go asynq out")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--charts", metavar="DIR", help="draw PNG charts into DIR (needs --json)")
    args = parser.parse_args(argv)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = sorted(set(peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peers {unknown}; known: {', '.join(PEERS)}")
    if args.charts and not args.json:
        parser.error("--charts draws from the --json file: give both")
    n = 200 if args.quick else args.n
    load = os.getloadavg()[0]
    server = RedisProcess()
    try:
        env = Env(
            redis_url=server.url,
            redis_port=server.port,
            rounds=1 if args.quick else args.rounds,
            go_bin=None if args.no_go else go_bin_dir(),
        )
        results = run_all(env, peers, n)
        r = env.raw()
        redis_version = r.info("server")["redis_version"]
        r.close()
    finally:
        server.stop()
    meta = {
        "python": sys.version.split()[0],
        "redis_server": redis_version,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average_before": load,
        "tasks": n,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(
        f"{n} tasks a scenario, Python {meta['python']}, redis-server {redis_version}, "
        f"{meta['cpus']} CPUs, load {load:.2f} before the run (other work on the machine "
        "shows in every figure); (Nx) = ratio to Go asynq"
    )
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    if args.charts:
        draw_charts(Path(args.json), Path(args.charts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
