"""Throw-away plug-ins for the entry-point tests: modules and a distribution's metadata
(``*.dist-info``, as ``pip install`` leaves it) in a directory put on ``sys.path``, so
``importlib.metadata`` finds real entry points."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest


def install_plugin(
    where: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    distribution: str,
    modules: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
    extras: tuple[str, ...] = (),
) -> None:
    """Write ``modules`` (name -> source) and the metadata of ``distribution`` declaring
    ``entry_points`` (group -> name -> value) and ``extras`` into ``where``, and put it first on
    ``sys.path`` for the test; the modules are imported afresh by the test."""
    for name, text in modules.items():
        (where / f"{name}.py").write_text(textwrap.dedent(text))
        monkeypatch.delitem(sys.modules, name, raising=False)
    info = where / f"{distribution.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    metadata = [f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n"]
    metadata += [f"Provides-Extra: {extra}\n" for extra in extras]
    (info / "METADATA").write_text("".join(metadata))
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items())
            for group, entries in entry_points.items()
        )
    )
    monkeypatch.syspath_prepend(str(where))
