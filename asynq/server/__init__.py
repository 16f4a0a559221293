"""The worker side: :class:`Server` processes tasks with a handler, configured by
:class:`Config`. Handlers receive an :class:`ActiveTask`.

Example::

    from asynq.server import Config, Server
    from asynq.servemux import ServeMux

    mux = ServeMux()

    @mux.task("email:send")
    async def send_email(task):
        await deliver(task.json())

    Server("redis://localhost:6379", Config(concurrency=10)).run(mux)
"""

from asynq.server._active_task import ActiveTask, ResultWriter
from asynq.server._config import (
    Config,
    ErrorHandler,
    GroupAggregator,
    GroupAggregatorFunc,
    HealthCheckFunc,
    IsFailureFunc,
    RetryDelayFunc,
    TaskWrapper,
    ThreadWrapper,
    default_retry_delay,
)
from asynq.server._server import Server

__all__ = [
    "ActiveTask",
    "Config",
    "ErrorHandler",
    "GroupAggregator",
    "GroupAggregatorFunc",
    "HealthCheckFunc",
    "IsFailureFunc",
    "ResultWriter",
    "RetryDelayFunc",
    "Server",
    "TaskWrapper",
    "ThreadWrapper",
    "default_retry_delay",
]
