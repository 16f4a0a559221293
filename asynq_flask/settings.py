"""The ``ASYNQ_*`` keys of a Flask app's config, read once by ``init_app``.

Keys the extension itself uses get their defaults with ``app.config.setdefault``, so
``app.config`` shows every value in force. Every other ``ASYNQ_<NAME>`` key is a setting of the
worker server, handed as it is to :meth:`asynq.server.Config.from_mapping`, which refuses
unknown names (suggesting the close ones) and bad values; nothing is validated twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asynq import ValidationError
from asynq.server import Config

__all__ = ["ADAPTER_KEYS", "SERVER_DEFAULTS", "AsynqSettings", "read_settings"]

#: Keys the extension reads itself (with their defaults); they are not server settings.
ADAPTER_KEYS: Mapping[str, Any] = {
    "ASYNQ_REDIS_URL": None,
    "ASYNQ_IMPORTS": (),
    "ASYNQ_SCHEDULER": None,
}
#: Server settings given a default in ``app.config`` (the server's own defaults).
SERVER_DEFAULTS: Mapping[str, Any] = {
    "ASYNQ_QUEUES": {"default": 1},
    "ASYNQ_CONCURRENCY": 0,
    "ASYNQ_STRICT_PRIORITY": False,
    "ASYNQ_SHUTDOWN_TIMEOUT": 8.0,
}
_PREFIX = "ASYNQ_"


@dataclass(frozen=True)
class AsynqSettings:
    """What ``init_app`` read from one app's config.

    Attributes:
        redis_url: Where the app's clients and servers connect; ``None`` leaves asynq's
            default (``asynq.configure`` or ``$ASYNQ_REDIS_URL``).
        imports: Modules ``flask asynq worker`` imports first, so their tasks register.
        scheduler: The ``"module:object"`` scheduler ``flask asynq scheduler`` runs by default.
        server: The worker server's configuration.
    """

    redis_url: str | None
    imports: tuple[str, ...]
    scheduler: str | None
    server: Config = field(repr=False)


def read_settings(config: dict[str, Any]) -> AsynqSettings:
    """Read (and default) the ``ASYNQ_*`` keys of a Flask ``app.config``.

    Raises:
        ValidationError: a key has a value of the wrong kind, is not a setting at all (with
            the close matches), or the server refuses it.
    """
    for key, default in {**ADAPTER_KEYS, **SERVER_DEFAULTS}.items():
        config.setdefault(key, default)
    redis_url = config["ASYNQ_REDIS_URL"]
    if redis_url is not None and (not isinstance(redis_url, str) or not redis_url.strip()):
        raise ValidationError(f"ASYNQ_REDIS_URL must be a Redis URL, not {redis_url!r}")
    imports = config["ASYNQ_IMPORTS"]
    if isinstance(imports, str) or not isinstance(imports, Sequence):
        raise ValidationError(f"ASYNQ_IMPORTS must be a list of module names, not {imports!r}")
    scheduler = config["ASYNQ_SCHEDULER"]
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValidationError(
            f'ASYNQ_SCHEDULER must be a "module:object" string, not {scheduler!r}'
        )
    server = {
        key[len(_PREFIX) :]: value
        for key, value in config.items()
        if isinstance(key, str) and key.startswith(_PREFIX) and key not in ADAPTER_KEYS
    }
    try:
        server_config = Config.from_mapping(server)
    except ValidationError as exc:
        raise ValidationError(f"{_PREFIX}* settings: {exc}") from None
    return AsynqSettings(redis_url, tuple(imports), scheduler, server_config)
