"""The shape of the public API, the Lua script headers, and what ``import asynq`` pulls in."""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import asynq

PACKAGE = Path(asynq.__file__).parent
LUA_DIR = PACKAGE / "_broker" / "lua"


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 "isort-style": CONSTANTS, then Classes, then everything else.
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted() -> None:
    assert list(asynq.__all__) == sorted(asynq.__all__, key=_isort_key)
    assert len(set(asynq.__all__)) == len(asynq.__all__)


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(asynq).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }
    assert public <= set(asynq.__all__), f"public but not in __all__: {public - set(asynq.__all__)}"
    for name in asynq.__all__:
        assert hasattr(asynq, name), f"__all__ names a missing attribute {name}"


def test_core_names_are_exported() -> None:
    for name in (
        "Client",
        "AsyncClient",
        "Task",
        "TaskInfo",
        "TaskState",
        "RedisConnection",
        "AsynqError",
        "ValidationError",
        "BrokerError",
        "DuplicateTaskError",
        "TaskIDConflictError",
        "EnqueueManyError",
        "__version__",
    ):
        assert name in asynq.__all__


def test_every_exception_derives_from_the_root() -> None:
    for name in asynq.__all__:
        value = getattr(asynq, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, asynq.AsynqError), name


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def _params(sig: inspect.Signature) -> list[tuple[str, object, object, object]]:
    # The one intended difference: the asyncio twin takes an asyncio redis-py client.
    def annotation(p: inspect.Parameter) -> object:
        return (
            p.annotation.replace("AsyncRedisLike", "RedisLike")
            if p.name == "redis"
            else p.annotation
        )

    return [(p.name, p.kind, p.default, annotation(p)) for p in sig.parameters.values()]


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(asynq.Client, asynq.AsyncClient), (asynq.Inspector, asynq.AsyncInspector)],
)
def test_sync_and_async_twins_match(sync_cls: type, async_cls: type) -> None:
    sync_methods = _public_methods(sync_cls)
    async_methods = _public_methods(async_cls)
    assert sorted(sync_methods) == sorted(async_methods)
    for name, sig in sync_methods.items():
        assert _params(sig) == _params(async_methods[name]), name
        assert sig.return_annotation == async_methods[name].return_annotation, name
        assert inspect.iscoroutinefunction(getattr(async_cls, name)), name
        assert not inspect.iscoroutinefunction(getattr(sync_cls, name)), name
    assert _params(inspect.signature(sync_cls)) == _params(inspect.signature(async_cls))
    assert hasattr(sync_cls, "__enter__") and hasattr(sync_cls, "__exit__")
    assert hasattr(async_cls, "__aenter__") and hasattr(async_cls, "__aexit__")


def test_generated_sync_twins_are_up_to_date() -> None:
    # Client and Inspector are written by scripts/gen_twins.py from their asyncio twins.
    script = PACKAGE.parent / "scripts" / "gen_twins.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _lua_files() -> list[Path]:
    return sorted(LUA_DIR.glob("*.lua"))


def test_there_are_lua_scripts() -> None:
    assert {p.stem for p in _lua_files()} >= {
        "enqueue",
        "enqueue_unique",
        "schedule",
        "schedule_unique",
        "add_to_group",
        "add_to_group_unique",
    }


def _header(path: Path) -> tuple[list[str], str]:
    """The leading comment block of a script, and the code after it."""
    lines = path.read_text().splitlines()
    n = 0
    while n < len(lines) and lines[n].startswith("--"):
        n += 1
    return lines[:n], "\n".join(lines[n:])


@pytest.mark.parametrize("path", _lua_files(), ids=lambda p: p.stem)
def test_lua_header(path: Path) -> None:
    header, body = _header(path)
    assert header, "the header comment is missing"
    assert re.match(rf"^-- {re.escape(path.stem)}: \S", header[0]), (
        "first line: '-- <name>: purpose'"
    )
    # The first paragraph: the purpose (possibly wrapped), then the Go command it mirrors.
    paragraph = []
    for line in header:
        if line.strip() == "--":
            break
        paragraph.append(line[2:].strip())
    text = " ".join(paragraph)
    # A script with no Go counterpart says so instead, naming what Go does in its place.
    match = re.search(r"Effect on Redis equals Go asynq v0\.26\.0 (\w+)", text) or re.search(
        r"No Go script: Go asynq v0\.26\.0 \w+", text
    )
    assert match, "missing 'Effect on Redis equals Go asynq v0.26.0 <goCmdName> (<file>.go)'"
    assert re.search(r"\b[\w/]+\.go\b", text), "the Go source file (internal/rdb/<file>.go)"
    head = "\n".join(header)
    assert re.search(r"^-- Returns: \S", head, re.M), "a '-- Returns:' line"
    # What Redis runs: the body with its --#include blocks expanded, so a block's uses count.
    body += "\n" + "\n".join(
        (LUA_DIR / "include" / f"{name}.lua").read_text()
        for name in re.findall(r"^--#include (\w+)$", body, re.M)
    )
    for kind in ("KEYS", "ARGV"):
        used = {int(n) for n in re.findall(rf"\b{kind}\[(\d+)\]", body)}
        documented = {int(n) for n in re.findall(rf"^-- {kind}\[(\d+)\] -> \S", head, re.M)}
        assert used <= documented, f"{kind} used but not documented: {sorted(used - documented)}"
        if documented:
            assert documented == set(range(1, max(documented) + 1)), f"{kind} numbering has gaps"


@pytest.mark.parametrize("path", _lua_files(), ids=lambda p: p.stem)
def test_lua_script_is_referenced(path: Path) -> None:
    # A script no Python code names is dead weight (or an op was forgotten).
    pattern = re.compile(rf"""["']{re.escape(path.stem)}["']""")
    for py in PACKAGE.rglob("*.py"):
        if pattern.search(py.read_text(encoding="utf-8")):
            return
    pytest.fail(f"no module under asynq/ refers to the script {path.stem!r}")


def test_lua_scripts_build_no_key_from_a_fixed_name() -> None:
    # Every key a script touches comes in KEYS (or as a prefix plus a runtime id, name or
    # state, as in Go's scripts), so the whole key layout lives in asynq/_base/keys.py and
    # each script's header lists its keys. `prefix .. "active"` would hide a key from both.
    from asynq._broker import scripts

    for name in scripts.names():
        source = scripts.load(name).source.decode()
        code = "\n".join(line.split("--", 1)[0] for line in source.splitlines())
        fixed = re.findall(r'\.\.\s*"[\w:{}]+"', code)
        assert not fixed, f"{name}: a key built from a fixed name: {fixed}"


def test_lua_scripts_load() -> None:
    from asynq._broker import scripts

    assert scripts.names() == [p.stem for p in _lua_files()]
    for name in scripts.names():
        script = scripts.load(name)
        assert len(script.sha) == 40 and script.source


def test_import_asynq_pulls_in_no_optional_extra() -> None:
    code = (
        "import sys, asynq\n"
        "heavy = ('django', 'flask', 'fastapi', 'starlette', 'click', 'uvicorn', 'jinja2')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
        "print(asynq.__version__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    loaded, version = out.stdout.splitlines()
    assert loaded == ""
    assert version == asynq.__version__


def test_lua_includes_are_expanded_and_each_is_used() -> None:
    from asynq._broker import scripts

    includes = sorted((LUA_DIR / "include").glob("*.lua"))
    assert includes, "no shared Lua blocks"
    used: set[str] = set()
    for name in scripts.names():
        source = scripts.load(name).source.decode()
        assert not re.search(r"^--#include", source, re.M), f"{name}: an include left unexpanded"
        raw = (LUA_DIR / f"{name}.lua").read_text()
        for match in re.finditer(r"^--#include (\w+)$", raw, re.M):
            used.add(match.group(1))
            block = (LUA_DIR / "include" / f"{match.group(1)}.lua").read_text().rstrip("\n")
            assert block in source
    assert used == {p.stem for p in includes}, "an include no script uses"


def _public_modules() -> list[str]:
    """Every module of asynq with no private (``_``) part in its name, scripts left out."""
    names = ["asynq"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="asynq."):
        parts = info.name.split(".")
        if not any(part.startswith("_") for part in parts):
            names.append(info.name)
    return names


def _documented_by_comment(name: str) -> bool:
    """Whether some module assigns ``name`` right under a ``#:`` documentation comment."""
    assignment = re.compile(rf"^{re.escape(name)}\s*(:[^=]+)?=", re.M)
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if assignment.match(line) and i and lines[i - 1].startswith("#:"):
                return True
    return False


def _has_own_docstring(value: object) -> bool:
    if isinstance(value, type | types.FunctionType | types.ModuleType):
        return bool(inspect.getdoc(value))
    return False


# What the library itself uses but users have no reason to: none of these may be exported.
INTERNAL_HELPERS = {
    "resolve_sync",
    "resolve_async",
    "is_cluster",
    "handler_executor",
    "is_async_handler",
    "schedule_fingerprint",
    "wait_for_signals",
    "TICK_CLAIM_TTL",
}


def test_there_are_public_modules() -> None:
    modules = set(_public_modules())
    assert {"asynq", "asynq.client", "asynq.connection", "asynq.errors", "asynq.server"} <= modules
    nested = sorted(m for m in modules if m.count(".") > 1)
    assert not nested, (
        f"{nested}: the implementation modules of a subpackage are private "
        "(asynq.server._processor, ...); its __init__ exports the public names"
    )


@pytest.mark.parametrize("module_name", _public_modules())
def test_public_module_exports_documented_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module), f"{module_name} has no module docstring"
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} has no __all__ (say what is public)"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names a missing attribute {name}"
        if name == "__version__":
            continue
        assert not name.startswith("_"), f"{module_name} exports the private name {name}"
        assert name not in INTERNAL_HELPERS, f"{module_name} exports the internal helper {name}"
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), f"{module_name} exports a module {name}"
        owner = getattr(value, "__module__", "") or ""
        assert not owner.startswith("asynq._broker"), f"{module_name}.{name} leaks the broker"
        assert _has_own_docstring(value) or _documented_by_comment(name), (
            f"{module_name}.{name} is public but has no docstring (or '#:' comment)"
        )


@pytest.mark.parametrize("module_name", _public_modules())
def test_public_classes_document_their_methods(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", ()):
        cls = getattr(module, name)
        if not isinstance(cls, type) or issubclass(cls, BaseException):
            continue
        for attr, member in vars(cls).items():
            if attr.startswith("_") or (not callable(member) and not isinstance(member, property)):
                continue
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)
            assert inspect.getdoc(function), f"{module_name}.{name}.{attr} has no docstring"
