"""Draw the peer table as small PNG bar charts: ``python peer_charts.py RESULTS.json OUT_DIR``.

Run by ``python -m benchmarks.peers --charts`` with matplotlib from a venv of its own; it reads
only the JSON that run wrote. One chart per figure, bars in the order of the results, Go
asynq's bar drawn darker.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

CHARTS = [
    (
        "enqueue_seq",
        "tasks_per_sec",
        "peers-enqueue-sequential.png",
        "Enqueue, one producer (tasks/s)",
    ),
    (
        "enqueue_conc",
        "tasks_per_sec",
        "peers-enqueue-concurrent.png",
        "Enqueue, 8 concurrent producers (tasks/s)",
    ),
    ("drain", "tasks_per_sec", "peers-drain.png", "Worker drain, no-op handler (tasks/s)"),
    (
        "drain",
        "cpu_s_per_1k",
        "peers-drain-cpu.png",
        "Worker CPU seconds per 1,000 tasks (lower is better)",
    ),
]


def main() -> None:
    source, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    data = json.loads(source.read_text())
    results = data["results"]
    for scenario, figure, filename, title in CHARTS:
        names = [n for n, e in results.items() if figure in e.get(scenario, {})]
        values = [results[n][scenario][figure] for n in names]
        fig, ax = plt.subplots(figsize=(6.4, 2.8), dpi=80)
        colors = ["#555555" if n == "go-asynq" else "#4c72b0" for n in names]
        bars = ax.barh(names[::-1], values[::-1], color=colors[::-1])
        ax.bar_label(
            bars,
            labels=[f"{v:,.0f}" if v >= 100 else f"{v:.2f}" for v in values[::-1]],
            padding=3,
            fontsize=8,
        )
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.margins(x=0.2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        fig.savefig(out_dir / filename, pil_kwargs={"optimize": True})
        plt.close(fig)
        print(out_dir / filename)


if __name__ == "__main__":
    main()
