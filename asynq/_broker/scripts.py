"""Loads the Lua scripts shipped in ``asynq/_broker/lua`` and computes their SHA1s once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class LuaScript:
    """The source of one script and the SHA1 that ``EVALSHA`` uses."""

    name: str
    source: bytes
    sha: str


@cache
def load(name: str) -> LuaScript:
    """Return the script ``lua/<name>.lua``; raises ``FileNotFoundError`` for unknown names."""
    source = resources.files("asynq._broker").joinpath("lua", f"{name}.lua").read_bytes()
    return LuaScript(name=name, source=source, sha=hashlib.sha1(source).hexdigest())


def names() -> list[str]:
    """The names of every shipped script."""
    folder = resources.files("asynq._broker").joinpath("lua")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".lua"))
