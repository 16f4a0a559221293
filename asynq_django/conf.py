"""The ``ASYNQ`` setting, read lazily so that ``override_settings(ASYNQ=...)`` works in tests.

One dict configures everything::

    ASYNQ = {
        "REDIS_URL": "redis://localhost:6379/0",   # or rediss://, redis-sentinel://, redis-cluster://
        "REDIS_OPTIONS": {"ssl_ca_certs": "/etc/ca.pem"},  # extra redis-py keyword arguments
        "QUEUES": {"critical": 6, "default": 3, "low": 1},  # worker queues and their weights
        "STRICT_PRIORITY": False,
        "CONCURRENCY": 10,                          # 0: the number of CPUs
        "SHUTDOWN_TIMEOUT": 8,                      # seconds the worker waits for running tasks
        "RETENTION": 86400,                         # how long django.tasks results are kept
        "MAX_RETRY": 25,                            # retries of a failing django.tasks task
        "ENQUEUE_ON_COMMIT": False,                 # enqueue inside atomic blocks at commit
        "PERIODIC_TASKS": [{"cron": "*/5 * * * *", "task": "shop.tasks.sweep"}],
        "API_TOKEN": "...",                         # Bearer token of the stats/metrics views
        "AUTODISCOVER": ["tasks"],                  # modules the worker imports in every app
        "HANDLER": "shop.tasks.mux",                # handles the types no Django task declares
    }

Every key is optional. Besides the keys above, every field of :class:`asynq.Config` is a key
(``TASK_CHECK_INTERVAL``, ``ERROR_HANDLER`` as an import path, ...): all worker keys are handed
to :meth:`asynq.Config.from_mapping`. A ``TASKS`` alias whose ``BACKEND`` is
:class:`asynq_django.backend.AsynqBackend` may repeat any of these keys in its ``OPTIONS``;
there, ``OPTIONS`` wins over ``ASYNQ``.

Reading the settings never talks to Redis; :func:`settings_problems` says what is wrong with
them (the system checks report it).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from asynq import Config, RedisConnection, ValidationError

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: A day: long enough to read a result after the task ran, short enough to bound Redis memory.
DEFAULT_RETENTION = 86400.0
#: asynq's own default number of retries.
DEFAULT_MAX_RETRY = 25

#: The keys of this adapter; every other key is a worker (``asynq.Config``) setting.
ADAPTER_KEYS = frozenset(
    {
        "REDIS_URL",
        "REDIS_OPTIONS",
        "CLUSTER",
        "RETENTION",
        "MAX_RETRY",
        "TIMEOUT",
        "ENQUEUE_ON_COMMIT",
        "PERIODIC_TASKS",
        "API_TOKEN",
        "AUTODISCOVER",
        "HANDLER",
    }
)


class SettingsError(ValidationError):
    """The ``ASYNQ`` setting (or a backend's ``OPTIONS``) holds a value that cannot work."""

    def __init__(self, check_id: str, message: str) -> None:
        super().__init__(message)
        self.check_id = check_id


@dataclass(frozen=True)
class AsynqSettings:
    """The validated ``ASYNQ`` setting (see the module docstring for the keys)."""

    redis_url: str = DEFAULT_REDIS_URL
    redis_options: Mapping[str, Any] = field(default_factory=dict)
    cluster: bool = False
    #: The worker settings (``QUEUES``, ``CONCURRENCY``...), as ``Config.from_mapping`` takes.
    server: Mapping[str, Any] = field(default_factory=dict)
    retention: float = DEFAULT_RETENTION
    max_retry: int = DEFAULT_MAX_RETRY
    timeout: float = 0.0
    enqueue_on_commit: bool = False
    periodic_tasks: tuple[Mapping[str, Any], ...] = ()
    api_token: str = ""
    autodiscover: tuple[str, ...] = ("tasks",)
    handler: str = ""

    @property
    def queues(self) -> Mapping[str, int]:
        """The queues the worker processes, with their weights."""
        return self.server_config().queues

    @property
    def concurrency(self) -> int:
        """Tasks a worker runs at once."""
        return self.server_config().concurrency

    def connection(self) -> RedisConnection:
        """Where Redis is; parsing only, no I/O."""
        return RedisConnection.from_url(
            self.redis_url, cluster=self.cluster, **dict(self.redis_options)
        )

    def server_config(self, **overrides: Any) -> Config:
        """A worker :class:`asynq.Config` from these settings, ``overrides`` (not ``None``)
        applied."""
        values = {k.lower(): v for k, v in self.server.items()}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Config.from_mapping(values)


def _seconds(check_id: str, name: str, value: Any) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SettingsError(check_id, f"{name} must be a number of seconds >= 0, not {value!r}")
    return float(value)


def _count(check_id: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingsError(check_id, f"{name} must be an int >= 0, not {value!r}")
    return value


def parse_queues(value: Any) -> dict[str, int]:
    """``{"name": weight}`` or a list of names (weight 1 each), validated.

    Raises:
        SettingsError: not a dict or list, a blank name, or a weight that is not an int >= 1.
    """
    if isinstance(value, list | tuple):
        value = dict.fromkeys(value, 1)
    if not isinstance(value, Mapping) or not value:
        raise SettingsError("asynq.E003", f"QUEUES must be a non-empty dict or list, not {value!r}")
    queues: dict[str, int] = {}
    for name, weight in value.items():
        if not isinstance(name, str) or not name.strip():
            raise SettingsError("asynq.E003", f"QUEUES has a blank or non-string name: {name!r}")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise SettingsError(
                "asynq.E003", f"QUEUES weight of {name!r} must be an int >= 1, not {weight!r}"
            )
        queues[name] = weight
    return queues


def _periodic(value: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list | tuple):
        raise SettingsError("asynq.E006", f"PERIODIC_TASKS must be a list, not {value!r}")
    for entry in value:
        if not isinstance(entry, Mapping) or not entry.get("cron") or not entry.get("task"):
            raise SettingsError(
                "asynq.E006",
                f'each PERIODIC_TASKS entry needs "cron" and "task", not {entry!r}',
            )
    return tuple(value)


def _server(raw: Mapping[str, Any]) -> dict[str, Any]:
    worker_keys = {f.name.upper() for f in dataclasses.fields(Config)}
    for key in raw:
        if key not in ADAPTER_KEYS and str(key).upper() not in worker_keys:
            close = difflib.get_close_matches(str(key), [*ADAPTER_KEYS, *worker_keys], n=2)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise SettingsError("asynq.E001", f"unknown ASYNQ key {key!r}{hint}")
    server = {str(k): v for k, v in raw.items() if k not in ADAPTER_KEYS}
    if "QUEUES" in server:
        server["QUEUES"] = parse_queues(server["QUEUES"])
    try:
        Config.from_mapping(server)
    except ValidationError as exc:
        raise SettingsError("asynq.E004", f"ASYNQ: {exc}") from None
    return server


def parse(raw: Any) -> AsynqSettings:
    """Validate one ``ASYNQ``-style mapping (no I/O).

    Raises:
        SettingsError: with the system check id of the first problem found.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SettingsError("asynq.E001", f"ASYNQ must be a dict, not {type(raw).__name__}")
    values: dict[str, Any] = {}
    url = raw.get("REDIS_URL") or os.environ.get("ASYNQ_REDIS_URL") or DEFAULT_REDIS_URL
    options = raw.get("REDIS_OPTIONS", {})
    if not isinstance(options, Mapping):
        raise SettingsError("asynq.E002", f"REDIS_OPTIONS must be a dict, not {options!r}")
    values["redis_url"], values["redis_options"] = url, dict(options)
    values["cluster"] = bool(raw.get("CLUSTER", False))
    try:
        AsynqSettings(**values).connection()
    except ValidationError as exc:
        raise SettingsError("asynq.E002", f"REDIS_URL {url!r} is not usable: {exc}") from None
    values["server"] = _server(raw)
    values["retention"] = _seconds(
        "asynq.E005", "RETENTION", raw.get("RETENTION", DEFAULT_RETENTION)
    )
    values["timeout"] = _seconds("asynq.E005", "TIMEOUT", raw.get("TIMEOUT", 0))
    values["max_retry"] = _count("asynq.E004", "MAX_RETRY", raw.get("MAX_RETRY", DEFAULT_MAX_RETRY))
    values["enqueue_on_commit"] = bool(raw.get("ENQUEUE_ON_COMMIT", False))
    values["periodic_tasks"] = _periodic(raw.get("PERIODIC_TASKS", ()))
    token = raw.get("API_TOKEN") or ""
    if not isinstance(token, str):
        raise SettingsError("asynq.E007", "API_TOKEN must be a string")
    values["api_token"] = token
    autodiscover = raw.get("AUTODISCOVER", ("tasks",))
    if isinstance(autodiscover, str):
        autodiscover = (autodiscover,)
    if not isinstance(autodiscover, list | tuple) or not all(
        isinstance(name, str) for name in autodiscover
    ):
        raise SettingsError(
            "asynq.E008", f"AUTODISCOVER must be a list of module names, not {autodiscover!r}"
        )
    values["autodiscover"] = tuple(autodiscover)
    handler = raw.get("HANDLER") or ""
    if not isinstance(handler, str):
        raise SettingsError("asynq.E009", f"HANDLER must be a dotted path, not {handler!r}")
    values["handler"] = handler
    return AsynqSettings(**values)


_cache: dict[str, AsynqSettings] = {}
_generation = [0]


def generation() -> int:
    """A number that changes whenever the settings are read again (see :func:`reload`)."""
    return _generation[0]


def get_settings() -> AsynqSettings:
    """The ``ASYNQ`` setting, validated; cached until the setting changes.

    Raises:
        SettingsError: the setting is invalid (``manage.py check`` says so too).
    """
    current = _cache.get("ASYNQ")
    if current is None:
        current = _cache["ASYNQ"] = parse(getattr(django_settings, "ASYNQ", None))
    return current


def merged(options: Mapping[str, Any] | None) -> AsynqSettings:
    """``ASYNQ`` with a backend's ``OPTIONS`` laid over it (``OPTIONS`` wins)."""
    base = getattr(django_settings, "ASYNQ", None) or {}
    if not isinstance(base, Mapping):
        return parse(base)  # raises the E001 error
    return parse({**base, **(options or {})})


def reload() -> None:
    """Read the settings (and ``$ASYNQ_REDIS_URL``) again and rebuild the clients.

    ``override_settings`` does this by itself; call it after changing the environment.
    """
    _cache.clear()
    _generation[0] += 1
    from asynq_django import clients, dashboard, transactions

    clients.reset()
    transactions.install_commit_hook()
    dashboard.close_dashboards()


@receiver(setting_changed)
def _forget_settings(*, setting: str, **kwargs: Any) -> None:
    if setting in ("ASYNQ", "TASKS"):
        reload()
