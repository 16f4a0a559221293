"""The ``asynq`` command line: inspect and manage queues and tasks, run workers and the dashboard.

The commands mirror Go's ``asynq`` tool (``stats``, ``queue``, ``task``, ``group``, ``server``,
``cron``) and add ``worker``, ``scheduler`` and ``dash``. They need the ``cli`` extra
(``pip install 'asynq-python[cli]'``); without it, :func:`main` prints that hint and exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: Printed when click (the ``cli`` extra) is not installed.
INSTALL_HINT = "error: the asynq command needs the 'cli' extra: pip install 'asynq-python[cli]'"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``asynq`` command line (the console script and ``python -m asynq``).

    Args:
        argv: The arguments, without the program name; defaults to ``sys.argv[1:]``.
    """
    try:
        import click  # noqa: F401  (probe only: the commands import it themselves)
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        raise SystemExit(1) from None
    from asynq.cli._root import cli

    cli.main(args=list(argv) if argv is not None else None, prog_name="asynq")


__all__ = ["INSTALL_HINT", "main"]
