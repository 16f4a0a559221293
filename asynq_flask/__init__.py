"""Flask integration for asynq: the :class:`Asynq` extension.

::

    from asynq_flask import Asynq

    asynq = Asynq(app)                         # or asynq.init_app(app) in a factory

    @asynq.task("email:welcome")
    def send_welcome(user_id: int) -> None: ...

- settings from ``ASYNQ_*`` config keys (see :meth:`Asynq.init_app`);
- task functions that run inside a fresh app context per task;
- ``flask asynq worker|scheduler|stats|pause|unpause``;
- the dashboard as a blueprint (:func:`dashboard_blueprint`, needs the ``web`` extra).

Needs the ``flask`` extra: ``pip install 'asynq-python[flask]'``.
"""

from asynq_flask.dashboard import dashboard_blueprint
from asynq_flask.extension import EXTENSION_KEY, Asynq, AsynqState
from asynq_flask.settings import AsynqSettings

__all__ = [
    "EXTENSION_KEY",
    "Asynq",
    "AsynqSettings",
    "AsynqState",
    "dashboard_blueprint",
]
