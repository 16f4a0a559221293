"""The two drivers: the only code that sends broker calls to Redis.

``SyncDriver.run(op)`` and ``AsyncDriver.run(op)`` walk the same op generator; they differ only
in ``await``, and ``SyncDriver`` is generated from ``AsyncDriver`` (``scripts/gen_twins.py``).
Both translate redis-py exceptions into :mod:`asynq.errors` at this boundary and throw them
into the op, so an op may catch a script's error reply (``NOT FOUND``) where it expects one.
Scripts go out as ``EVALSHA`` and fall back to ``EVAL`` on ``NOSCRIPT``.

Calls that a plain standalone client can serve byte-for-byte go through the fast lane
(:mod:`asynq._broker.lane`), unless it is switched off (``fast_lane=False``,
``ASYNQ_FAST_LANE=0``); everything else takes redis-py's ``execute_command``/pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import redis
import redis.asyncio
import redis.exceptions

from asynq._broker import lane, scripts
from asynq._broker.calls import Arg, Call, Command, Op, Pipeline, ReplyError, Script, Stream
from asynq._broker.lane.wire import AsyncLane, Meanwhile, NotSentError, SyncLane
from asynq.connection import redact
from asynq.errors import BrokerConnectionError, BrokerError, BrokerUnreachableError

if TYPE_CHECKING:
    from asynq.connection import AsyncRedis, SyncRedis

T = TypeVar("T")


def translate(exc: redis.exceptions.RedisError) -> BrokerError:
    """Map a redis-py exception to the asynq tree (the original is kept as ``__cause__``)."""
    error: BrokerError
    if isinstance(exc, redis.exceptions.ResponseError):
        error = ReplyError(redact(str(exc)))
    elif isinstance(exc, NotSentError):  # only the lane knows: it opens its own connections
        kind = type(exc.__cause__ or exc).__name__
        error = BrokerUnreachableError(redact(f"redis: {kind}: {exc}"))
    elif isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        error = BrokerConnectionError(redact(f"redis: {type(exc).__name__}: {exc}"))
    else:
        error = BrokerError(redact(f"redis: {type(exc).__name__}: {exc}"))
    error.__cause__ = exc
    return error


def _evalsha_args(call: Script) -> tuple[Arg, ...]:
    return ("EVALSHA", scripts.load(call.name).sha, len(call.keys), *call.keys, *call.args)


def _eval_args(call: Script) -> tuple[Arg, ...]:
    return ("EVAL", scripts.load(call.name).source, len(call.keys), *call.keys, *call.args)


def _pipeline_replies(raw: list[Any]) -> tuple[list[Any], list[int]]:
    """Turn pipeline replies into values; return them and the indexes that hit NOSCRIPT."""
    replies: list[Any] = []
    noscript: list[int] = []
    for i, item in enumerate(raw):
        if isinstance(item, redis.exceptions.NoScriptError):
            noscript.append(i)
            replies.append(None)
        elif isinstance(item, redis.exceptions.RedisError):
            replies.append(translate(item))
        else:
            replies.append(item)
    return replies, noscript


def _lane_replies(raw: list[Any]) -> list[Any]:
    """Pipeline replies from a lane (NOSCRIPT already resolved), errors translated."""
    return [translate(r) if isinstance(r, redis.exceptions.RedisError) else r for r in raw]


def _unstreamed(call: Call, meanwhile: Meanwhile | None) -> Command | Script | Pipeline:
    """``call`` for the plain path (which does not stream: a Stream's calls are all made, then
    sent as a Pipeline), with ``meanwhile`` done just before it is sent."""
    if isinstance(call, Stream):
        call = Pipeline(tuple(call.calls))
    if meanwhile is not None:
        meanwhile()
    return call


def _call_args(call: Command | Script) -> tuple[Arg, ...]:
    return call.args if isinstance(call, Command) else _evalsha_args(call)


class AsyncDriver:
    """Runs ops on an asyncio redis-py client (``Redis`` or ``RedisCluster``).

    ``fast_lane``: whether a plain standalone client takes the fast lane (``None``: as
    ``$ASYNQ_FAST_LANE`` says, default yes).
    """

    def __init__(self, client: AsyncRedis, fast_lane: bool | None = None) -> None:
        self.redis = client
        # redis-py leaves execute_command untyped; this is the one place it is called.
        self._command: Callable[..., Awaitable[Any]] = client.execute_command
        self._lane = AsyncLane.attach(client) if lane.enabled(fast_lane) else None

    @property
    def coalesces(self) -> bool:
        """Whether calls issued concurrently share writes (they do on the fast lane)."""
        return self._lane is not None

    async def run(self, op: Op[T], meanwhile: Meanwhile | None = None) -> T:
        """Drive ``op`` to completion and return its result.

        ``meanwhile`` is work that does not need Redis' replies, called at most once, while the
        op's first call is in flight: the fast lane calls it once the call is sent, the plain
        path just before sending. If the call fails before it is sent, it may not be called.
        """
        try:
            call = next(op)
            while True:
                try:
                    reply = await self._execute(call, meanwhile)
                except BrokerError as exc:
                    call = op.throw(exc)
                else:
                    call = op.send(reply)
                meanwhile = None
        except StopIteration as stop:
            return cast(T, stop.value)

    async def _execute(self, call: Call, meanwhile: Meanwhile | None = None) -> Any:
        try:
            lane = self._lane
            if lane is not None and lane.accepts(call):
                reply = await lane.execute(call, meanwhile)
                return _lane_replies(reply) if isinstance(call, Pipeline | Stream) else reply
            call = _unstreamed(call, meanwhile)
            if isinstance(call, Command):
                return await self._command(*call.args)
            if isinstance(call, Script):
                return await self._script(call)
            return await self._pipeline(call)
        except redis.exceptions.RedisError as exc:
            raise translate(exc) from exc

    async def _script(self, call: Script) -> Any:
        try:
            return await self._command(*_evalsha_args(call))
        except redis.exceptions.NoScriptError:
            return await self._command(*_eval_args(call))

    async def _pipeline(self, call: Pipeline) -> list[Any]:
        pipe = self.redis.pipeline(transaction=call.transaction)
        for sub in call.calls:
            pipe.execute_command(*_call_args(sub))
        replies, noscript = _pipeline_replies(await pipe.execute(raise_on_error=False))
        for i in noscript:  # NOSCRIPT means the script did not run: running it again is safe
            sub = call.calls[i]
            assert isinstance(sub, Script)
            try:
                replies[i] = await self._script(sub)
            except redis.exceptions.RedisError as exc:
                replies[i] = translate(exc)
        return replies

    async def release(self) -> None:
        """Give back the pool connections the driver holds between calls (it stays usable)."""
        if self._lane is not None:
            await self._lane.close()

    async def close(self) -> None:
        """Close the underlying connection pool."""
        await self.release()
        await self.redis.aclose()


class AsyncFacade:
    """Base of the public asyncio classes that talk to Redis through one :class:`AsyncDriver`.

    It gives them ``close()`` and ``async with``. The redis-py client is closed only when this
    library opened it: a client the caller passed in stays the caller's to close.
    """

    _driver: AsyncDriver
    _owned: bool

    async def close(self) -> None:
        """Close the connection pool, unless the redis client was passed in by the caller."""
        if self._owned:
            await self._driver.close()
        else:
            await self._driver.release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


# Generated by scripts/gen_twins.py from the classes above: edit those, then run the script.
class SyncDriver:
    """Runs ops on a blocking redis-py client (``Redis`` or ``RedisCluster``).

    ``fast_lane``: whether a plain standalone client takes the fast lane (``None``: as
    ``$ASYNQ_FAST_LANE`` says, default yes).
    """

    def __init__(self, client: SyncRedis, fast_lane: bool | None = None) -> None:
        self.redis = client
        # redis-py leaves execute_command untyped; this is the one place it is called.
        self._command: Callable[..., Any] = client.execute_command
        self._lane = SyncLane.attach(client) if lane.enabled(fast_lane) else None

    @property
    def coalesces(self) -> bool:
        """Whether calls issued concurrently share writes (they do on the fast lane)."""
        return self._lane is not None

    def run(self, op: Op[T], meanwhile: Meanwhile | None = None) -> T:
        """Drive ``op`` to completion and return its result.

        ``meanwhile`` is work that does not need Redis' replies, called at most once, while the
        op's first call is in flight: the fast lane calls it once the call is sent, the plain
        path just before sending. If the call fails before it is sent, it may not be called.
        """
        try:
            call = next(op)
            while True:
                try:
                    reply = self._execute(call, meanwhile)
                except BrokerError as exc:
                    call = op.throw(exc)
                else:
                    call = op.send(reply)
                meanwhile = None
        except StopIteration as stop:
            return cast(T, stop.value)

    def _execute(self, call: Call, meanwhile: Meanwhile | None = None) -> Any:
        try:
            lane = self._lane
            if lane is not None and lane.accepts(call):
                reply = lane.execute(call, meanwhile)
                return _lane_replies(reply) if isinstance(call, Pipeline | Stream) else reply
            call = _unstreamed(call, meanwhile)
            if isinstance(call, Command):
                return self._command(*call.args)
            if isinstance(call, Script):
                return self._script(call)
            return self._pipeline(call)
        except redis.exceptions.RedisError as exc:
            raise translate(exc) from exc

    def _script(self, call: Script) -> Any:
        try:
            return self._command(*_evalsha_args(call))
        except redis.exceptions.NoScriptError:
            return self._command(*_eval_args(call))

    def _pipeline(self, call: Pipeline) -> list[Any]:
        pipe = self.redis.pipeline(transaction=call.transaction)
        for sub in call.calls:
            pipe.execute_command(*_call_args(sub))
        replies, noscript = _pipeline_replies(pipe.execute(raise_on_error=False))
        for i in noscript:  # NOSCRIPT means the script did not run: running it again is safe
            sub = call.calls[i]
            assert isinstance(sub, Script)
            try:
                replies[i] = self._script(sub)
            except redis.exceptions.RedisError as exc:
                replies[i] = translate(exc)
        return replies

    def release(self) -> None:
        """Give back the pool connections the driver holds between calls (it stays usable)."""
        if self._lane is not None:
            self._lane.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self.release()
        self.redis.close()


class SyncFacade:
    """Base of the public blocking classes that talk to Redis through one :class:`SyncDriver`.

    It gives them ``close()`` and ``with``. The redis-py client is closed only when this
    library opened it: a client the caller passed in stays the caller's to close.
    """

    _driver: SyncDriver
    _owned: bool

    def close(self) -> None:
        """Close the connection pool, unless the redis client was passed in by the caller."""
        if self._owned:
            self._driver.close()
        else:
            self._driver.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
