"""``asynq_lifespan``: one :class:`asynq.AsyncClient` per process, opened and closed by the
app's lifespan, and optionally a worker server running beside the app.

The lifespan is the only place a FastAPI app opens and closes things (``on_event`` is
deprecated), and the one client it opens is shared by every request on the serving loop:
a client per request would open a connection pool per request. The client is put where each
FastAPI style looks for it: the lifespan state (``request.state.asynq``), ``app.state.asynq``,
and the default async client of the serving loop (:func:`asynq.use_loop_client`), so task
functions' ``await fn.aenqueue(...)`` send through it too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import asynq
from asynq.server import Config
from asynq_fastapi.worker import Handler, app_running, running_worker, worker_request

__all__ = ["STATE_KEY", "AsynqLifespan", "asynq_lifespan"]

#: The lifespan state key (and ``app.state`` attribute) holding the client.
STATE_KEY = "asynq"
#: Environment variables read when the arguments leave a setting out.
ENV_REDIS_URL = "ASYNQ_REDIS_URL"
ENV_WORKER = "ASYNQ_WORKER"
_DEFAULT_URL = "redis://127.0.0.1:6379/0"

_log = logging.getLogger("asynq_fastapi")
_T = TypeVar("_T")


def _env_flag(value: str) -> bool:
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("", "0", "false", "no", "off"):
        return False
    raise asynq.ValidationError(f"${ENV_WORKER} must be true or false, not {value!r}")


class AsynqLifespan:
    """The lifespan :func:`asynq_lifespan` returns: call it with the app for an async context
    manager yielding the lifespan state ``{"asynq": client}``.

    Attributes:
        redis: Where the client connects: the URL or ``RedisConnection`` given, else
            ``None`` (then ``$ASYNQ_REDIS_URL`` is read at start-up).
        worker: Whether a worker server runs inside the lifespan (``None``: read
            ``$ASYNQ_WORKER`` at start-up).
        tasks: What the embedded worker runs (default :data:`asynq.default_registry`).
        worker_config: The embedded worker's configuration.
    """

    def __init__(
        self,
        redis: str | asynq.RedisConnection | None,
        *,
        worker: bool | None,
        tasks: Handler | None,
        worker_config: Config | Mapping[str, Any] | None,
    ) -> None:
        if isinstance(redis, str):
            asynq.RedisConnection.from_url(redis)  # a malformed URL fails at import time
        elif not (redis is None or isinstance(redis, asynq.RedisConnection)):
            raise asynq.ValidationError(
                f"asynq_lifespan(redis_url=...) takes a Redis URL or a RedisConnection, "
                f"not {type(redis).__name__}"
            )
        if worker_config is not None and not isinstance(worker_config, Config):
            worker_config = Config.from_mapping(worker_config)
        self.redis = redis
        self.worker = worker
        self.tasks = tasks
        self.worker_config = worker_config

    def connection(self) -> str | asynq.RedisConnection:
        """Where to connect: the argument, else ``$ASYNQ_REDIS_URL``, else the local default."""
        if self.redis is not None:
            return self.redis
        url = os.environ.get(ENV_REDIS_URL)
        if not url:
            return _DEFAULT_URL
        try:
            asynq.RedisConnection.from_url(url)
        except asynq.ValidationError as exc:
            raise asynq.ValidationError(f"${ENV_REDIS_URL}: {exc}") from None
        return url

    def runs_worker(self) -> bool:
        """Whether the worker server runs inside this lifespan."""
        if self.worker is not None:
            return self.worker
        return _env_flag(os.environ.get(ENV_WORKER, ""))

    def __call__(self, app: Any) -> AbstractAsyncContextManager[dict[str, Any]]:
        """The lifespan of ``app``: opens the client, yields ``{"asynq": client}``."""
        return self._run(app)

    @asynccontextmanager
    async def _run(self, app: Any) -> AsyncIterator[dict[str, Any]]:
        where = _settled(self.connection)
        async with AsyncExitStack() as stack:
            client = asynq.AsyncClient(where)
            stack.push_async_callback(client.close)
            await _check_reachable(client, where)
            stack.enter_context(asynq.use_loop_client(client))
            app.state.asynq = client
            request = worker_request.get()
            if request is not None:
                # `python -m asynq_fastapi worker`: it runs the server itself, once the whole
                # app lifespan has started, with this lifespan's settings.
                request.found(where, self.tasks, self.worker_config)
            elif _settled(self.runs_worker):
                await stack.enter_async_context(
                    running_worker(where, self.tasks, self.worker_config, app=app)
                )
            try:
                with app_running(app):
                    yield {STATE_KEY: client}
            finally:
                if getattr(app.state, STATE_KEY, None) is client:
                    delattr(app.state, STATE_KEY)


def _settled(read: Callable[[], _T]) -> _T:
    """A setting read at start-up; one read from a bad environment variable fails the start-up
    with one error line saying which (the server's traceback comes after it)."""
    try:
        return read()
    except asynq.ValidationError as exc:
        message = f"asynq_lifespan: {exc}"
        _log.error("%s", message)
        raise asynq.ValidationError(message) from None


async def _check_reachable(client: asynq.AsyncClient, where: str | asynq.RedisConnection) -> None:
    """Fail the start-up, with one line naming the address, when Redis does not answer."""
    try:
        await client.redis.ping()
    except Exception as exc:
        shown = where if isinstance(where, str) else "the configured RedisConnection"
        message = f"asynq_lifespan: cannot reach Redis at {_redacted(shown)}: {exc}"
        _log.error("%s", message)
        raise asynq.BrokerError(message) from None


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def asynq_lifespan(
    redis_url: str | asynq.RedisConnection | None = None,
    *,
    worker: bool | None = None,
    tasks: Handler | None = None,
    worker_config: Config | Mapping[str, Any] | None = None,
) -> AsynqLifespan:
    """A lifespan that opens one :class:`asynq.AsyncClient` for the app and closes it on exit.

    Pass it as the app's lifespan, or enter it inside the app's own::

        app = FastAPI(lifespan=asynq_lifespan("redis://localhost:6379/0"))

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            async with asynq_lifespan()(app) as asynq_state, open_db() as db:
                yield {**asynq_state, "db": db}

    At start-up it pings Redis, so a wrong address fails the start-up (one error line naming
    it) instead of the first request. While it runs, the client is the lifespan state's
    ``"asynq"`` (``request.state.asynq``), ``app.state.asynq``, what
    :func:`~asynq_fastapi.get_asynq_client` returns, and the default async client of the
    serving loop (``await task_fn.aenqueue(...)`` sends through it).

    Args:
        redis_url: A Redis URL or :class:`asynq.RedisConnection`; default ``$ASYNQ_REDIS_URL``,
            else ``redis://127.0.0.1:6379/0``.
        worker: Also run a worker server inside the lifespan, on the app's event loop (for
            small deployments; see the trade-offs in ``docs/fastapi.md``). Default
            ``$ASYNQ_WORKER`` (``true``/``false``), else off.
        tasks: What that worker runs: a :class:`asynq.TaskRegistry`, :class:`asynq.ServeMux`
            or any handler; default :data:`asynq.default_registry` (every ``@asynq.task``).
        worker_config: Its :class:`asynq.server.Config`, or a settings mapping for
            :meth:`Config.from_mapping <asynq.server.Config.from_mapping>`.

    Raises:
        ValidationError: ``redis_url`` is malformed, or ``worker_config`` is invalid.
    """
    return AsynqLifespan(redis_url, worker=worker, tasks=tasks, worker_config=worker_config)
