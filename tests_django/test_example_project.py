"""example_projects/django_shop runs as its README says: `python demo.py` and
`python manage.py test`, from the project's folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.helpers.redis_procs import free_port

SHOP = Path(__file__).resolve().parents[1] / "example_projects" / "django_shop"


def shop_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ASYNQ_REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["SHOP_DB"] = str(tmp_path / "shop.sqlite3")  # the README default is the project folder
    return env


def test_readme_commands_are_quoted_from_the_readme() -> None:
    readme = (SHOP / "README.md").read_text()
    assert "python demo.py " in readme and "python manage.py test " in readme


def test_the_shops_own_tests_pass_on_embedded_redis(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "test"],
        cwd=SHOP,
        env=shop_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Ran 1 test" in done.stderr


def test_the_demo_takes_an_order_through_worker_and_receipt(tmp_path: Path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "demo.py", "--port", str(port)],
        cwd=SHOP,
        env=shop_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    cookies = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert b"asynq shop" in opener.open(f"{base}/", timeout=5).read()
                break
            except OSError:
                assert demo.poll() is None and time.monotonic() < deadline, "demo did not start"
                time.sleep(0.2)
        token = next(c.value for c in cookies if c.name == "csrftoken")
        request = urllib.request.Request(
            f"{base}/orders",
            data=b"item=cake&quantity=3",
            headers={"X-CSRFToken": token, "Accept": "application/json", "Referer": base},
        )
        order = json.loads(opener.open(request, timeout=10).read())["order"]
        while True:
            status = json.loads(opener.open(f"{base}/orders/{order}.json", timeout=5).read())
            if status["receipt"]:
                break
            assert time.monotonic() < deadline, f"order not handled: {status}"
            time.sleep(0.2)
        assert status["status"] == "fulfilled"
        assert status["receipt"] == "receipt for 3 x cake"
        assert status["task"] == {
            "status": "SUCCESSFUL",
            "attempts": 1,
            "return_value": {"order": order, "items": 3},
        }
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, out
    assert "redis: redis://127.0.0.1:" in out
