"""Run the example: ``python run.py [--port 8000]``.

Uses ``$ASYNQ_REDIS_URL`` when set; otherwise starts a throw-away redis-server of its own
(stopped on exit). The worker runs inside the web process (``ASYNQ_WORKER=true``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import ExitStack, suppress

import uvicorn

from asynq.demo import EmbeddedRedis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with ExitStack() as stack:
        if not os.environ.get("ASYNQ_REDIS_URL"):
            redis_server = stack.enter_context(EmbeddedRedis())
            os.environ["ASYNQ_REDIS_URL"] = redis_server.url
            print(f"redis: {redis_server.url} (embedded)", flush=True)
        os.environ.setdefault("ASYNQ_WORKER", "true")
        print(f"open http://127.0.0.1:{args.port}/docs and /asynq (admin / admin)", flush=True)
        # uvicorn re-raises the signal that stopped it once it has shut down; exit through
        # Python then, so that the redis-server started above is stopped too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with suppress(KeyboardInterrupt):
            uvicorn.run("orders.main:app", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
