"""Regenerate ``asynq/_base/proto/asynq_pb2.py`` and its ``.pyi`` stub from ``asynq.proto``.

Run with ``--check`` in CI: it regenerates into a temporary folder and fails when the committed
files differ, so the checked-in code can never drift from the schema.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "asynq" / "_base" / "proto"
OUTPUTS = ("asynq_pb2.py", "asynq_pb2.pyi")


def generate(into: Path) -> None:
    # protoc finds the protoc-gen-mypy plugin on PATH; it lives beside this interpreter.
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    include = Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        [
            "protoc",
            f"-I{PROTO_DIR}",
            f"-I{include}",
            f"--python_out={into}",
            f"--mypy_out={into}",
            str(PROTO_DIR / "asynq.proto"),
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out)
        if args.check:
            stale = [n for n in OUTPUTS if not filecmp.cmp(out / n, PROTO_DIR / n, shallow=False)]
            if stale:
                print(f"stale generated code: {', '.join(stale)}; run scripts/gen_proto.py")
                return 1
            print("generated protobuf code is up to date")
            return 0
        for name in OUTPUTS:
            shutil.copy(out / name, PROTO_DIR / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
