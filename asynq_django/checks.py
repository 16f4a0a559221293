"""System checks of the ``ASYNQ`` setting (``manage.py check``).

The default checks only read the settings. ``manage.py check --deploy --tag asynq`` also
pings Redis.

========== =================================================================================
asynq.E001 ``ASYNQ`` is not a dict, or has an unknown key
asynq.E002 ``REDIS_URL`` / ``REDIS_OPTIONS`` cannot be used (a Cluster with a database other
           than 0, ``CLUSTER`` with a Sentinel or socket URL...)
asynq.E003 ``QUEUES`` is not a dict of name to weight >= 1 (or a list of names)
asynq.E004 a worker key (``CONCURRENCY``, ``SHUTDOWN_TIMEOUT``...) that ``asynq.Config``
           refuses, or ``MAX_RETRY`` is not an int >= 0
asynq.E005 ``RETENTION`` / ``TIMEOUT`` is not seconds >= 0
asynq.E006 a ``PERIODIC_TASKS`` entry lacks ``cron`` or ``task``
asynq.E007 ``API_TOKEN`` is not a string
asynq.E008 ``AUTODISCOVER`` is not a list of module names
asynq.E009 ``HANDLER`` is not a dotted path
asynq.E010 Redis does not answer (deploy check)
asynq.W001 ``RETENTION`` is 0: results of successful ``django.tasks`` tasks cannot be read
========== =================================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core import checks

from asynq_django.conf import SettingsError, get_settings


@checks.register("asynq")
def check_settings(app_configs: Any = None, **kwargs: Any) -> Iterable[checks.CheckMessage]:
    """The ``ASYNQ`` setting is valid."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        return [checks.Error(str(exc), hint="See asynq_django.conf.", id=exc.check_id)]
    if settings.retention == 0:
        return [
            checks.Warning(
                "ASYNQ['RETENTION'] is 0: a successful task leaves Redis at once, so "
                "get_result() cannot see it",
                hint="Set RETENTION to the seconds results should stay readable.",
                id="asynq.W001",
            )
        ]
    return []


@checks.register("asynq", deploy=True)
def check_redis(app_configs: Any = None, **kwargs: Any) -> Iterable[checks.CheckMessage]:
    """Redis answers (only with ``--deploy``: the only check that does I/O)."""
    from asynq import AsynqError
    from asynq_django.clients import get_inspector

    try:
        get_inspector().queues()
    except SettingsError:
        return []  # reported by check_settings
    except AsynqError as exc:
        return [checks.Error(f"Redis does not answer: {exc}", id="asynq.E010")]
    return []
