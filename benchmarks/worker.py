"""Worker benchmarks (issue 3 item 6): one worker process at concurrency 10, Python's
``Server`` side by side with a Go asynq v0.26.0 server on the same Redis in the same run.

* :mod:`benchmarks.worker_drain`: no-op drain of 10,000 waiting tasks: tasks/s, CPU-s per
  1,000 tasks, peak RSS, Redis commands per task.
* :mod:`benchmarks.worker_pickup`: pickup latency p50/p99 of an idle worker, for
  Python-enqueued tasks (Python and Go workers) and Go-enqueued tasks (Python worker).

Importing this module registers them (group ``worker``) with :mod:`benchmarks.run`. Run alone::

    python -m benchmarks.worker            # prints the table (about a minute)
    python -m benchmarks.worker --quick    # 10x fewer tasks and samples, 1 round
    python -m benchmarks.worker --no-go --json out.json

Targets are in benchmarks/README.md.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The benchmarks live in their own modules so that running this file as ``__main__`` does
# not register them a second time when the runner imports ``benchmarks.worker``.
import benchmarks.worker_drain
import benchmarks.worker_pickup

__all__ = ["main"]

_MODULES = (benchmarks.worker_drain, benchmarks.worker_pickup)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.run --only worker`` with the same other options."""
    from benchmarks import run

    args = list(sys.argv[1:] if argv is None else argv)
    return run.main(["--only", "worker", *args])


if __name__ == "__main__":
    raise SystemExit(main())
