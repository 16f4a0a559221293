"""Run the example: ``python run.py [--port 5000]``.

Uses ``$ASYNQ_REDIS_URL`` when set; otherwise starts a throw-away redis-server of its own.
Starts a worker (``flask --app shop asynq worker``) and serves the app; Ctrl-C or SIGTERM stops
all of it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from werkzeug.serving import make_server

from asynq.demo import EmbeddedRedis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ExitStack() as stack:
        if not os.environ.get("ASYNQ_REDIS_URL"):
            redis_server = stack.enter_context(EmbeddedRedis())
            os.environ["ASYNQ_REDIS_URL"] = redis_server.url
            print(f"redis: {redis_server.url} (embedded)", flush=True)
        if not os.environ.get("SHOP_DATABASE_URL"):  # one database file for web and worker
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="flask-shop-"))
            os.environ["SHOP_DATABASE_URL"] = f"sqlite:///{Path(folder) / 'shop.db'}"
        from shop import create_app

        app = create_app()  # creates the tables before the worker starts
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "shop", "asynq", "worker"]
        )
        stack.callback(_stop, worker)
        server = make_server("127.0.0.1", args.port, app, threaded=True)
        print(f"open http://127.0.0.1:{args.port}/asynq/ (the dashboard)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)  # graceful: running tasks finish or are requeued
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


if __name__ == "__main__":
    main()
