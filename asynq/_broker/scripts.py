"""Loads the Lua scripts shipped in ``asynq/_broker/lua`` and computes their SHA1s once.

Redis has no ``require``, so a block several scripts share lives once in
``lua/include/<name>.lua`` and a script pulls it in with a line reading exactly
``--#include <name>``; the line is replaced by the file's text when the script is loaded, so
Redis (and the SHA1) see one self-contained script.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_INCLUDE = re.compile(rb"^--#include ([a-z_]+)[ \t]*$", re.M)


@dataclass(frozen=True, slots=True)
class LuaScript:
    """The source of one script and the SHA1 that ``EVALSHA`` uses."""

    name: str
    source: bytes
    sha: str


def _read(*parts: str) -> bytes:
    return resources.files("asynq._broker").joinpath("lua", *parts).read_bytes()


@cache
def load(name: str) -> LuaScript:
    """Return the script ``lua/<name>.lua``; raises ``FileNotFoundError`` for unknown names."""
    source = _INCLUDE.sub(
        lambda m: _read("include", f"{m.group(1).decode()}.lua").rstrip(b"\n"), _read(f"{name}.lua")
    )
    return LuaScript(name=name, source=source, sha=hashlib.sha1(source).hexdigest())


def names() -> list[str]:
    """The names of every shipped script."""
    folder = resources.files("asynq._broker").joinpath("lua")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".lua"))
