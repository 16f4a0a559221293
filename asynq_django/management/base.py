"""What the ``asynq_*`` management commands share: settings errors and asynq errors become a
one-line :class:`~django.core.management.base.CommandError` (non-zero exit, no traceback)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.core.management.base import CommandError

from asynq import AsynqError
from asynq_django.conf import AsynqSettings, SettingsError, get_settings


def settings_or_error() -> AsynqSettings:
    """The ``ASYNQ`` setting, or a CommandError naming the check id of the problem."""
    try:
        return get_settings()
    except SettingsError as exc:
        raise CommandError(f"{exc} ({exc.check_id})") from None


@contextlib.contextmanager
def asynq_errors() -> Iterator[None]:
    """Turn an asynq error (bad input, a missing queue, Redis down) into a CommandError."""
    try:
        yield
    except AsynqError as exc:
        raise CommandError(str(exc)) from None
