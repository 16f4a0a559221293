"""Import an object named by a string: ``"package.module:attr.path"`` or ``"package.module.attr"``.

Settings files and command lines name handlers, callbacks and schedulers as text; this is the
one place that turns such a name into the object, with :func:`pkgutil.resolve_name` (the
standard library's reading of both forms), and its failures into a ``ValidationError``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from asynq.errors import ValidationError


def import_object(path: str) -> Any:
    """The object ``path`` names.

    Raises:
        ValidationError: the module cannot be imported, or has no such attribute. Errors other
            than ``ImportError`` raised by the imported module's own code propagate unchanged.
    """
    module_name = path.partition(":")[0]
    try:
        return pkgutil.resolve_name(path)
    except ValueError:
        raise ValidationError(f'invalid import string {path!r}: expected "module:object"') from None
    except ImportError as exc:
        raise ValidationError(f"could not import module {module_name!r}: {exc}") from None
    except AttributeError as exc:
        raise ValidationError(f"cannot import {path!r}: {exc}") from None


def import_module(name: str) -> None:
    """Import the module ``name`` (for its side effects, such as registering tasks).

    Raises:
        ValidationError: it cannot be imported.
    """
    try:
        importlib.import_module(name)
    except ImportError as exc:
        raise ValidationError(f"could not import module {name!r}: {exc}") from None
