"""Build the wheel and check that it ships the non-Python files the package needs at run time:
the Lua scripts and their includes, the protobuf schema, the dashboard's templates and static
assets, py.typed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_PREFIXES = {
    "asynq/_broker/lua/": ".lua",
    "asynq/web/templates/": ".html",
    "asynq/web/static/": "",
    "asynq_django/templates/admin/asynq_django/": ".html",
    "asynq_django/static/asynq_django/": ".css",
}
REQUIRED_FILES = {
    "asynq/py.typed",
    "asynq_django/py.typed",
    "asynq_fastapi/py.typed",
    "asynq_flask/py.typed",
    "asynq/_base/proto/asynq.proto",
}


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, str(ROOT)],
            check=True,
        )
        wheel = next(Path(out).glob("*.whl"))
        names = set(zipfile.ZipFile(wheel).namelist())
    problems = [f"missing {f}" for f in sorted(REQUIRED_FILES - names)]
    lua_dir = ROOT / "asynq/_broker/lua"
    lua_sources = {p.relative_to(lua_dir).as_posix() for p in lua_dir.rglob("*.lua")}
    shipped_lua = {
        n.removeprefix("asynq/_broker/lua/") for n in names if n.startswith("asynq/_broker/lua/")
    }
    problems += [f"missing lua/{n}" for n in sorted(lua_sources - shipped_lua)]
    for prefix, suffix in REQUIRED_PREFIXES.items():
        if not any(n.startswith(prefix) and n.endswith(suffix) for n in names):
            problems.append(f"no {prefix}*{suffix} in the wheel")
    if problems:
        print(f"{wheel.name}: " + "; ".join(problems))
        return 1
    print(f"{wheel.name}: {len(names)} files, {len(shipped_lua)} Lua scripts, assets present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
