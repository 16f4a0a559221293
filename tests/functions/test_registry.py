"""Registering task functions: names, options, one function per type, the default registry,
importing modules so that their functions register, and what a handle is when called."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import asynq
from asynq.servemux import is_async_handler


@asynq.task
def module_level(x: int) -> int:
    return x * 2


def test_a_bare_decorator_names_the_task_after_its_dotted_path() -> None:
    assert module_level.type_name == f"{__name__}.module_level"
    assert asynq.default_registry.get(module_level.type_name) is module_level
    assert module_level(21) == 42  # calling the handle runs the function
    assert module_level.__name__ == "module_level"
    assert module_level.__wrapped__(1) == 2


def test_a_registry_of_its_own_keeps_its_functions_apart() -> None:
    registry = asynq.TaskRegistry()

    @registry.task("reg:own", queue="low")
    async def own(word: str) -> str:
        return word

    @registry.task(max_retry=1)  # options without a name: the dotted path again
    def unnamed() -> None: ...

    assert unnamed.type_name == f"{__name__}.{unnamed.__qualname__}"
    assert "<locals>" in unnamed.type_name
    assert "reg:own" in registry
    assert list(registry) == sorted(["reg:own", unnamed.type_name])
    assert "reg:own" not in asynq.default_registry
    assert registry["reg:own"] is own
    assert is_async_handler(own)
    assert not is_async_handler(module_level)
    with pytest.raises(asynq.HandlerNotFoundError, match='handler not found for task "reg:nope"'):
        registry["reg:nope"]


async def test_a_lookup_miss_fails_like_an_unmatched_servemux() -> None:
    with pytest.raises(asynq.HandlerNotFoundError) as raised:
        await asynq.TaskRegistry().process_task(asynq.Task("reg:nope"))
    assert str(raised.value) == 'handler not found for task "reg:nope"'


def test_two_functions_cannot_share_a_type_name() -> None:
    registry = asynq.TaskRegistry()

    @registry.task("reg:dup")
    def first() -> None: ...

    with pytest.raises(asynq.ValidationError, match='task type "reg:dup" is registered already'):

        @registry.task("reg:dup")
        def second() -> None: ...

    assert registry["reg:dup"] is first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"queue": " "}, "queue", id="blank-queue"),
        pytest.param({"timeout": 0.5}, "at least one second", id="sub-second-timeout"),
        pytest.param({"max_retries": 3}, "unknown option", id="unknown-option"),
        pytest.param({"headers": {"a": 1}}, "headers must map str to str", id="bad-headers"),
    ],
)
def test_options_are_checked_when_the_function_is_decorated(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(asynq.ValidationError, match=message):
        asynq.TaskRegistry().task("reg:opts", **options)(lambda: None)  # type: ignore[arg-type,call-overload]


def test_a_blank_type_name_is_refused() -> None:
    with pytest.raises(asynq.ValidationError, match="non-blank"):
        asynq.TaskRegistry().task("  ")


def test_tasks_carry_the_decorator_options_and_using_merges_over_them() -> None:
    registry = asynq.TaskRegistry()

    @registry.task("reg:opts", queue="low", max_retry=3, headers={"team": "a"})
    def fn(n: int) -> None: ...

    task = fn.task(1)
    assert (task.type, task.payload) == ("reg:opts", b'{"n":1}')
    assert dict(task.options) == {"queue": "low", "max_retry": 3}
    assert dict(task.headers) == {"team": "a"}
    other = fn.using(queue="high", headers={"trace": "t"}).task(2)
    assert dict(other.options) == {"queue": "high", "max_retry": 3}
    assert dict(other.headers) == {"team": "a", "trace": "t"}
    assert fn.task(3).options["queue"] == "low"  # the original handle is unchanged
    with pytest.raises(asynq.ValidationError, match="unknown option"):
        fn.using(retries=3)  # type: ignore[call-arg]


def test_a_function_taking_the_task_needs_one_when_called_directly() -> None:
    @asynq.TaskRegistry().task("reg:takes")
    def takes(task: asynq.ActiveTask, n: int) -> int:
        return n

    assert takes.task(5).payload == b'{"n":5}'  # the task is not an argument
    with pytest.raises(RuntimeError, match="only available while a worker"):
        takes(5)
    with pytest.raises(RuntimeError, match="only available while a worker"):
        asynq.current_task()


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the module: the default registry outlives each test."""
    return tmp_path_factory.mktemp("packages")


@pytest.fixture
def package(package_dir: Path) -> Iterator[Path]:
    """A package ``fnpkg`` with a ``tasks`` module, ``fnplain`` without one, ``fnbroken``
    whose ``tasks`` fails to import."""
    tmp_path = package_dir
    pkg = tmp_path / "fnpkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(
        textwrap.dedent(
            """
            import asynq

            @asynq.task("discovered:hello")
            def hello(name: str) -> str:
                return "hello " + name
            """
        )
    )
    (tmp_path / "fnplain").mkdir(exist_ok=True)
    (tmp_path / "fnplain" / "__init__.py").write_text("")
    (tmp_path / "fnbroken").mkdir(exist_ok=True)
    (tmp_path / "fnbroken" / "__init__.py").write_text("")
    (tmp_path / "fnbroken" / "tasks.py").write_text("import no_such_module_for_asynq_tests\n")
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith(("fnpkg", "fnplain", "fnbroken"))]:
        del sys.modules[name]


def test_autodiscover_imports_the_tasks_module_of_each_package(package: Path) -> None:
    modules = asynq.default_registry.autodiscover(["fnpkg", "fnplain"])
    assert [m.__name__ for m in modules] == ["fnpkg", "fnpkg.tasks", "fnplain"]
    assert asynq.default_registry["discovered:hello"]("ada") == "hello ada"
    with pytest.raises(ModuleNotFoundError, match="no_such_module_for_asynq_tests"):
        asynq.default_registry.autodiscover(["fnbroken"])


def test_importing_a_module_twice_does_not_count_as_a_duplicate(package: Path) -> None:
    module = asynq.default_registry.include("fnpkg.tasks")
    importlib.reload(module)  # the same definitions run again (a module run as a script, too)
    assert asynq.default_registry["discovered:hello"] is module.hello
