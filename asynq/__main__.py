"""``python -m asynq``: the same command line as the ``asynq`` console script."""

from __future__ import annotations

from asynq.cli import main

if __name__ == "__main__":
    main()
