"""Task functions by type name: :class:`TaskRegistry`, the process-wide
:data:`default_registry` and the :func:`task` decorator that fills it.

A registry is a handler: ``Server.run(registry)``, ``asynq worker app.tasks:registry`` and
``mux.handle("email:", registry)`` all work, and a task whose type has no function fails with
:class:`~asynq.HandlerNotFoundError`, as with a :class:`~asynq.ServeMux`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

from asynq._functions.handle import TaskFunction, TaskFunctionOptions
from asynq._task import Task
from asynq.errors import HandlerNotFoundError, ValidationError
from asynq.servemux import call_handler
from asynq.server._active_task import ActiveTask

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["TaskDecorator", "TaskRegistry", "default_registry", "task", "type_name_of"]

P = ParamSpec("P")
R = TypeVar("R")


class TaskDecorator(Protocol):
    """What ``@task("name", ...)`` returns: a decorator making a :class:`TaskFunction`."""

    @overload
    def __call__(self, fn: Callable[Concatenate[ActiveTask, P], R], /) -> TaskFunction[P, R]: ...
    @overload
    def __call__(self, fn: Callable[P, R], /) -> TaskFunction[P, R]: ...


def type_name_of(fn: Callable[..., Any]) -> str:
    """The default task type of ``fn``: its dotted path ``module.qualname``.

    A script run as ``python app/tasks.py`` is module ``__main__`` to itself but ``tasks`` to
    whoever imports it; the name uses the module's real name (``python -m``) or, failing that,
    the file's stem, so that producer and worker agree.
    """
    module = getattr(fn, "__module__", None) or "__main__"
    if module == "__main__":
        main = sys.modules.get("__main__")
        spec = getattr(main, "__spec__", None)
        path = getattr(main, "__file__", None)
        if spec is not None and spec.name:
            module = spec.name.removesuffix(".__main__")
        elif path:
            module = Path(path).stem
    return f"{module}.{fn.__qualname__}"


def _same_definition(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """Whether two functions come from the same source lines (a module imported twice)."""
    code_a, code_b = getattr(a, "__code__", None), getattr(b, "__code__", None)
    if code_a is None or code_b is None:
        return False
    return (code_a.co_filename, code_a.co_firstlineno, a.__qualname__) == (
        code_b.co_filename,
        code_b.co_firstlineno,
        b.__qualname__,
    )


class TaskRegistry:
    """Task functions by type name, and the handler that runs them.

    ::

        registry = asynq.TaskRegistry()

        @registry.task("email:welcome", queue="critical")
        async def send_welcome(user_id: int) -> None: ...

        Server(redis_url).run(registry)

    A function decorated with ``@registry.task`` lives only in that registry; ``@asynq.task``
    uses :data:`asynq.default_registry`.
    """

    def __init__(self) -> None:
        self._functions: dict[str, TaskFunction[Any, Any]] = {}

    # -- registering --------------------------------------------------------------------------

    @overload
    def task(self, fn: Callable[Concatenate[ActiveTask, P], R], /) -> TaskFunction[P, R]: ...
    @overload
    def task(self, fn: Callable[P, R], /) -> TaskFunction[P, R]: ...
    @overload
    def task(
        self, name: str | None = None, /, **options: Unpack[TaskFunctionOptions]
    ) -> TaskDecorator: ...
    def task(self, fn_or_name: Any = None, /, **options: Any) -> Any:
        """Register a function (``def`` or ``async def``) as a task function.

        ``@registry.task`` names the task after the function's dotted path
        (``module.qualname``); ``@registry.task("email:welcome", queue=..., ...)`` names it
        and attaches options (``queue``, ``max_retry``, ``timeout``, ``deadline``, ``unique``,
        ``retention``, ``group``, ``headers``) to all its tasks.

        Raises:
            ValidationError: the name is blank or taken by another function, or an option
                is unknown or invalid.
        """
        if callable(fn_or_name):
            if options:
                raise ValidationError("@task(fn) takes no options; use @task(name, **options)")
            return self.register(fn_or_name)
        if fn_or_name is not None and (not isinstance(fn_or_name, str) or not fn_or_name.strip()):
            raise ValidationError(f"task type must be a non-blank string, not {fn_or_name!r}")

        def decorate(fn: Callable[..., Any]) -> TaskFunction[Any, Any]:
            return self.register(fn, fn_or_name, **options)

        return decorate

    @overload
    def register(
        self,
        fn: Callable[Concatenate[ActiveTask, P], R],
        name: str | None = None,
        **options: Unpack[TaskFunctionOptions],
    ) -> TaskFunction[P, R]: ...
    @overload
    def register(
        self, fn: Callable[P, R], name: str | None = None, **options: Unpack[TaskFunctionOptions]
    ) -> TaskFunction[P, R]: ...
    def register(
        self, fn: Callable[..., Any], name: str | None = None, **options: Any
    ) -> TaskFunction[Any, Any]:
        """Register ``fn`` under ``name`` (default: its dotted path); return its handle.

        The non-decorator form of :meth:`task`.

        Raises:
            ValidationError: as :meth:`task`.
        """
        if isinstance(fn, TaskFunction):
            raise ValidationError(f"{fn!r} is a task function already")
        if not callable(fn):
            raise ValidationError(f"a task function must be callable, not {fn!r}")
        type_name = name or type_name_of(fn)
        handle = TaskFunction(fn, type_name, options)
        existing = self._functions.get(type_name)
        if existing is not None and not _same_definition(existing.__wrapped__, fn):
            raise ValidationError(
                f'task type "{type_name}" is registered already (by {existing!r}); '
                "give one of the functions another name"
            )
        self._functions[type_name] = handle
        return handle

    def include(self, module: str | ModuleType) -> ModuleType:
        """Import ``module`` (a dotted name or a module), so that its ``@task`` functions
        register; return it.

        Raises:
            ModuleNotFoundError, ImportError: the module cannot be imported.
        """
        if isinstance(module, ModuleType):
            return module
        return importlib.import_module(module)

    def autodiscover(
        self, packages: Iterable[str], related_name: str | None = "tasks"
    ) -> list[ModuleType]:
        """Import each of ``packages`` and, where it exists, its ``related_name`` submodule
        (``app.tasks``, as Celery and Django look for them); return the modules imported.

        Raises:
            ImportError: a package, or a submodule that exists, fails to import.
        """
        imported = []
        for name in packages:
            module = self.include(name)
            imported.append(module)
            if related_name and hasattr(module, "__path__"):
                try:
                    imported.append(importlib.import_module(f"{name}.{related_name}"))
                except ModuleNotFoundError as exc:
                    if exc.name != f"{name}.{related_name}":
                        raise  # the submodule exists but imports something missing
        return imported

    # -- looking up ---------------------------------------------------------------------------

    def get(self, type_name: str) -> TaskFunction[Any, Any] | None:
        """The function registered for ``type_name``, or ``None``."""
        return self._functions.get(type_name)

    def __getitem__(self, type_name: str) -> TaskFunction[Any, Any]:
        handle = self._functions.get(type_name)
        if handle is None:
            raise HandlerNotFoundError(type_name)
        return handle

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._functions

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._functions))

    def __len__(self) -> int:
        return len(self._functions)

    def __repr__(self) -> str:
        return f"<TaskRegistry of {len(self._functions)} task functions>"

    # -- handling -----------------------------------------------------------------------------

    async def process_task(self, task: Task) -> None:
        """Run the function registered for the task's type, so a registry is a handler.

        ``async def`` functions run on the event loop; plain ``def`` functions in the
        server's handler thread pool, as with a :class:`~asynq.ServeMux`.

        Raises:
            HandlerNotFoundError: no function is registered for the type.
            TaskArgumentsError: the payload does not fit the function's parameters.
        """
        await call_handler(self[task.type], task)


#: The registry ``@asynq.task`` registers into; run it with ``asynq worker module:registry``
#: or ``Server.run(asynq.default_registry)``.
default_registry = TaskRegistry()


@overload
def task(fn: Callable[Concatenate[ActiveTask, P], R], /) -> TaskFunction[P, R]: ...
@overload
def task(fn: Callable[P, R], /) -> TaskFunction[P, R]: ...
@overload
def task(name: str | None = None, /, **options: Unpack[TaskFunctionOptions]) -> TaskDecorator: ...
def task(fn_or_name: Any = None, /, **options: Any) -> Any:
    """Make a function (``def`` or ``async def``) a task function of
    :data:`default_registry`; see :meth:`TaskRegistry.task`.

    ::

        @asynq.task
        def resize(image_id: int, width: int = 800) -> None: ...

        @asynq.task("email:welcome", queue="critical", max_retry=5)
        async def send_welcome(user_id: int) -> None: ...

        resize.enqueue(7, width=400)
    """
    return default_registry.task(fn_or_name, **options)
