"""``python -m asynq_fastapi worker myapp.main:app``: a worker process inside the app's lifespan.

The FastAPI command line has no plugin hook, so the worker has an entry of its own. It imports
the app (a ``"module:attribute"`` import string, as uvicorn takes), runs the app's lifespan, and
serves the task functions until SIGTERM or SIGINT (see :func:`asynq_fastapi.run_app_worker`).
Exit status: 0 after a clean stop, 1 after one error line when the input is bad or the start
fails.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

import asynq
from asynq_fastapi.worker import run_app_worker

_log = logging.getLogger("asynq_fastapi")


def _queue(text: str) -> tuple[str, int]:
    name, _, weight = text.partition("=")
    try:
        return name, int(weight or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--queue takes NAME or NAME=WEIGHT, not {text!r}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m asynq_fastapi")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker", help="run the app's task functions inside the app's lifespan"
    )
    worker.add_argument("app", help='the FastAPI app, "module:attribute" (e.g. myapp.main:app)')
    worker.add_argument(
        "--tasks",
        help='what to run, "module:attribute" (a TaskRegistry or ServeMux); default: '
        "asynq_lifespan(tasks=...), else every @asynq.task",
    )
    worker.add_argument("--redis", help="Redis URL; default: the app's asynq_lifespan")
    worker.add_argument("--concurrency", type=int, help="tasks processed at once")
    worker.add_argument(
        "--queue",
        action="append",
        type=_queue,
        metavar="NAME[=WEIGHT]",
        help="a queue to serve, with its priority (repeatable)",
    )
    worker.add_argument("--app-dir", default=".", help="directory put first on sys.path")
    worker.add_argument("--log-level", default="info", help="debug, info, warning or error")
    return parser


def _load(target: str) -> Any:
    module, colon, attr = target.partition(":")
    if not colon or not module or not attr:
        raise asynq.ValidationError(
            f'invalid import string {target!r}: expected "module:attribute"'
        )
    try:
        return pkgutil.resolve_name(target)
    except (ImportError, AttributeError) as exc:
        raise asynq.ValidationError(f"cannot import {target!r}: {exc}") from exc


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The Config settings the flags give (over the lifespan's ``worker_config``)."""
    overrides: dict[str, Any] = {}
    if args.concurrency is not None:
        overrides["concurrency"] = args.concurrency
    if args.queue:
        overrides["queues"] = dict(args.queue)
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    level = logging.getLevelName(args.log_level.upper())
    if not isinstance(level, int):
        print(f"unknown log level {args.log_level!r}", file=sys.stderr)
        return 1
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.path.insert(0, os.path.abspath(args.app_dir))
    try:
        app = _load(args.app)
        tasks = _load(args.tasks) if args.tasks else None
        asyncio.run(run_app_worker(app, tasks, redis=args.redis, overrides=_overrides(args)))
    except asynq.AsynqError as exc:
        _log.error("asynq_fastapi worker: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
