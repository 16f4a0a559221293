"""The drivers' fast lane: RESP bytes written straight onto redis-py's pooled sockets.

redis-py's ``execute_command`` spends longer on generic machinery (argument encoding,
observability hooks, event dispatch, retry closures, pool bookkeeping) than a local Redis takes
to run an enqueue script, so the producer's hot path talks to the connection directly. The lane
keeps every contract of the plain path:

- **Bytes and replies** are redis-py's own (see :mod:`asynq._broker.lane.resp`). The lane
  takes only calls whose replies redis-py would not post-process: scripts, and commands
  without a response callback; error replies come back as the same exception objects.
- **Connections** come from the client's own pool. A socket failure disconnects the connection
  and the exchange is retried under the connection's ``Retry`` policy, as redis-py does; an
  interrupted read disconnects too, so no reply is ever left for the next user.

Only plain standalone clients take the lane (TCP or Unix socket, no TLS, no client-side cache,
not Sentinel or Cluster, not a single-connection client); every other client, and every other
call, goes the plain redis-py way. The lane does not emit redis-py's OpenTelemetry metrics.

Calls issued concurrently on one client are coalesced into shared writes
(:mod:`asynq._broker.lane.coalesce`). Two more things only the lane can do: a Pipeline or
:class:`~asynq._broker.calls.Stream` is packed (and a Stream's calls made) in chunks while the
first chunks are sent, so Redis starts on them at once; and work that does not need the replies
(``meanwhile``, e.g. building TaskInfos) runs after the send, while Redis works.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import weakref
from collections.abc import Callable, Iterable, Sequence
from time import monotonic
from typing import Any, Final

import redis
import redis.asyncio
import redis.asyncio.connection as aconn
import redis.connection as sconn
import redis.exceptions

from asynq._broker.calls import Command, Pipeline, Script, Stream
from asynq._broker.lane import resp
from asynq._broker.lane.coalesce import (
    AsyncCoalescer,
    SyncCoalescer,
    interrupted,
    nothing,
)

#: Pipelines of up to this many calls are coalesced with other callers' calls; longer ones
#: (and Streams) are packed while they are sent, on a connection of their own.
SMALL_REPLIES: Final = 4
#: Bytes asked of the socket per read.
RECV_SIZE: Final = 65536
#: Connections a sync lane keeps checked out between exchanges (see :class:`SyncLane`).
PARK_LIMIT: Final = 4

#: Work a caller wants done while Redis runs its calls (it must not need their replies).
Meanwhile = Callable[[], object]

#: Argument types that always pack (subclasses such as bool, or enums, take the plain path).
_PACKABLE: Final = frozenset({str, bytes, int, float})
#: Commands that may block the connection: never coalesced with other callers' calls (a batch
#: would wait behind them), so they take the plain path.
_BLOCKING: Final = frozenset(
    {"BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP"}
    | {"XREAD", "XREADGROUP", "WAIT", "WAITAOF", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"}
)

_SYNC_CONNECTIONS: Final = (sconn.Connection, sconn.UnixDomainSocketConnection)
_SYNC_POOLS: Final = (sconn.ConnectionPool, sconn.BlockingConnectionPool)
_ASYNC_CONNECTIONS: Final = (aconn.Connection, aconn.UnixDomainSocketConnection)
_ASYNC_POOLS: Final = (aconn.ConnectionPool, aconn.BlockingConnectionPool)


def _plain_standalone(client: Any, client_type: type, pools: tuple[type, ...], conns: Any) -> bool:
    """Whether ``client`` is a vanilla standalone client the lane can serve byte-for-byte."""
    if type(client) is not client_type or getattr(client, "connection", None) is not None:
        return False
    pool: Any = getattr(client, "connection_pool", None)
    return (
        type(pool) in pools
        and pool.connection_class in conns
        and getattr(pool, "cache", None) is None
    )


class _MeanwhileFailed(Exception):
    """Carries an exception of ``meanwhile`` past the retry loop (it must not resend)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class _Once:
    """Calls ``fn`` the first time it is called (a retried exchange must not redo it)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Meanwhile | None) -> None:
        self.fn = fn

    def __call__(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            try:
                fn()
            except Exception as exc:
                raise _MeanwhileFailed(exc) from exc


Many = Pipeline | Stream
#: A small exchange as the asyncio lane coalesces it: its packed calls, their number, and the
#: work to do once they are sent (if they go out alone).
_Packed = tuple[bytes, int, Callable[[], None]]


class _Lane:
    """What both lanes share: which calls they take, and reader reuse."""

    def __init__(self, client: Any) -> None:
        self._pool: Any = client.connection_pool
        self._callbacks: Any = client.response_callbacks
        self._readers = resp.ReaderPool(resp.reader_kwargs(self._pool.connection_kwargs))

    def accepts(self, call: Command | Script | Many) -> bool:
        """Whether the lane returns for ``call`` exactly what redis-py would.

        A pipeline also needs arguments of plain packable types: it is packed while it is
        sent, so an argument redis-py refuses (say a bool) would surface after the first
        calls had already run, where redis-py refuses the whole pipeline up front.
        """
        if isinstance(call, Script | Stream):
            return True  # a Stream's calls are vetted as they are made (see _vet)
        if isinstance(call, Command):
            return self._raw_reply(call)
        if call.transaction:
            return False
        return all(
            _PACKABLE.issuperset(map(type, sub.keys)) and _PACKABLE.issuperset(map(type, sub.args))
            if isinstance(sub, Script)
            else self._raw_reply(sub) and _PACKABLE.issuperset(map(type, sub.args))
            for sub in call.calls
        )

    def _raw_reply(self, call: Command) -> bool:
        name = call.args[0] if call.args else None
        return (
            isinstance(name, str) and name not in self._callbacks and name.upper() not in _BLOCKING
        )

    def _vet(self, call: Command | Script) -> None:
        """Refuse a Stream call that breaks the Stream contract (a bug in the op)."""
        if isinstance(call, Command) and not self._raw_reply(call):
            raise ValueError(
                f"a Stream cannot carry {call.args[0]!r}: redis-py parses its reply, or it blocks"
            )

    def _parts(
        self, call: Command | Script | Many
    ) -> tuple[Sequence[bytes] | resp.Calls, int | None]:
        """What to send for ``call``, and how many replies (``None``: one per call sent). A
        small call is packed at once, as one part: that is what gets coalesced."""
        if isinstance(call, Pipeline) and len(call.calls) <= SMALL_REPLIES:
            return (b"".join(map(resp.packed, call.calls)),), len(call.calls)
        if isinstance(call, Pipeline):
            return resp.Calls(call.calls), None
        if isinstance(call, Stream):
            return resp.Calls(call.calls, self._vet), None
        return (resp.packed(call),), 1


def _many_calls(call: Command | Script | Many, parts: object) -> Sequence[Command | Script] | None:
    """The calls of a Pipeline or Stream once sent (``None`` for a single call)."""
    if isinstance(parts, resp.Calls):
        return parts.calls
    return call.calls if isinstance(call, Pipeline) else None


def _value(reply: Any) -> Any:
    """A single call's reply, raised if it is an error (as redis-py does)."""
    if isinstance(reply, redis.exceptions.RedisError):
        raise reply
    return reply


class SyncLane(_Lane):
    """The fast lane of :class:`~asynq._broker.drivers.SyncDriver` (thread-safe).

    Between exchanges the lane keeps up to ``PARK_LIMIT`` connections *parked* (still checked
    out of the pool) instead of returning each to the pool and taking it back: a round trip
    through redis-py's pool costs ~7 µs, a tenth of an enqueue. A parked connection gets the
    same check the pool makes (a socket that turned readable, i.e. closed by a restarted
    server, is reconnected). At most an eighth of a bounded pool is parked; parked connections
    go back to the pool on :meth:`close` or when the lane is garbage-collected, and a forked
    child never uses its parent's.
    """

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(client)
        self._park_limit = min(PARK_LIMIT, self._pool.max_connections // 8)
        self._parked: list[Any] = []
        self._pid = os.getpid()
        weakref.finalize(self, _unpark, self._pool, self._parked, self._pid)
        self._coalescer = SyncCoalescer(self._exchange)

    @classmethod
    def attach(cls, client: object) -> SyncLane | None:
        """A lane for ``client``, or ``None`` when it must keep the plain path."""
        if _plain_standalone(client, redis.Redis, _SYNC_POOLS, _SYNC_CONNECTIONS):
            assert isinstance(client, redis.Redis)
            return cls(client)
        return None

    def execute(self, call: Command | Script | Many, meanwhile: Meanwhile | None = None) -> Any:
        """Run ``call``, calling ``meanwhile`` once the calls are sent. A Pipeline or Stream
        returns its replies with errors as values (NOSCRIPT already resolved with ``EVAL``).

        Raises:
            redis.exceptions.RedisError: the reply of a single call is an error, or Redis failed.
        """
        once = _Once(meanwhile)
        parts, count = self._parts(call)
        try:
            if isinstance(parts, resp.Calls):
                replies = self._exchange(parts, count, once)
            else:
                replies = self._coalescer.submit(parts[0], count or 0, once)
        except _MeanwhileFailed as failed:
            raise failed.error from None
        calls = _many_calls(call, parts)
        if calls is not None:
            missing = resp.missing_scripts(calls, replies)
            if missing:  # NOSCRIPT means the script did not run: sending its source is safe
                payload = b"".join(resp.eval_(c) for _, c in missing)
                again = self._exchange((payload,), len(missing), once)
                for (i, _), reply in zip(missing, again, strict=True):
                    replies[i] = reply
            return replies
        reply = replies[0]
        if isinstance(call, Script) and isinstance(reply, redis.exceptions.NoScriptError):
            reply = self._exchange((resp.eval_(call),), 1, once)[0]
        return _value(reply)

    def close(self) -> None:
        """Give the parked connections back to the pool (the lane stays usable)."""
        _unpark(self._pool, self._parked, self._pid)

    def _exchange(
        self, parts: Iterable[bytes], count: int | None, once: Callable[[], None]
    ) -> list[Any]:
        sending = _Sending()
        try:
            conn = self._checkout()
        except _LINK_ERRORS as exc:
            raise NotSentError(str(exc)) from exc
        try:
            replies: list[Any] = conn.retry.call_with_retry(
                lambda: self._roundtrip(conn, parts, count, once, sending),
                lambda _error: conn.disconnect(),
            )
            return replies
        except _LINK_ERRORS as exc:
            sending.check(exc)
            raise
        finally:
            self._checkin(conn)

    def _checkout(self) -> Any:
        if self._pid != os.getpid():  # forked: those sockets are the parent's
            self._parked.clear()
            self._pid = os.getpid()
        try:
            conn = self._parked.pop()
        except IndexError:
            return self._pool.get_connection()
        sock = conn._sock
        if sock is not None and _readable(sock):  # closed by the server (or out of step)
            conn.disconnect()  # the send reconnects, as after the pool's own check
        return conn

    def _checkin(self, conn: Any) -> None:
        if len(self._parked) < self._park_limit:
            self._parked.append(conn)
        else:
            self._pool.release(conn)

    def _roundtrip(
        self,
        conn: Any,
        parts: Iterable[bytes],
        count: int | None,
        once: Callable[[], None],
        sending: _Sending,
    ) -> list[Any]:
        if conn._sock is None:
            conn.connect()
        sending.started = True
        conn.send_packed_command(parts)  # maps socket errors
        count = _sent(parts, count)
        if not count:
            return []
        try:
            once()
        except BaseException:
            conn.disconnect()  # the replies are on their way and nobody will read them
            raise
        sock: socket.socket = conn._sock
        try:
            replies = self._readers.replies(conn, count)
            while not replies.feed(sock.recv(RECV_SIZE)):  # the socket's timeout applies
                pass
        except TimeoutError as exc:  # socket.timeout
            conn.disconnect()
            raise redis.exceptions.TimeoutError("Timeout reading from socket") from exc
        except OSError as exc:
            conn.disconnect()
            raise redis.exceptions.ConnectionError(f"Error while reading: {exc.args}") from exc
        except BaseException:
            conn.disconnect()  # a reply may still be on its way: never reuse this socket
            raise
        if conn.health_check_interval:
            conn.next_health_check = monotonic() + conn.health_check_interval
        return self._readers.done(replies)


#: What redis-py raises when a connection fails (to open, or mid-exchange).
_LINK_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class NotSentError(redis.exceptions.ConnectionError):
    """No try of an exchange got a connection: none of its bytes left this process, so a write
    in it did not happen (the drivers raise :class:`~asynq.errors.BrokerUnreachableError`)."""


class _Sending:
    """Whether any try of one exchange got as far as writing to a connected socket.

    The connection's ``Retry`` may try an exchange several times; once one try has written,
    a later failure (even to reconnect) leaves the outcome unknown.
    """

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False

    def check(self, exc: BaseException) -> None:
        """Raise :class:`NotSentError` for ``exc`` if no try wrote anything."""
        if not self.started and not isinstance(exc, NotSentError):
            raise NotSentError(str(exc)) from exc


def _sent(parts: Iterable[bytes], count: int | None) -> int:
    """How many replies to read once ``parts`` are sent."""
    if count is None:
        assert isinstance(parts, resp.Calls)
        return len(parts.calls)
    return count


def _readable(sock: socket.socket) -> bool:
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _unpark(pool: Any, parked: list[Any], pid: int) -> None:
    """Return parked connections to ``pool`` (not in a forked child: they are the parent's)."""
    if pid != os.getpid():
        return
    while parked:
        pool.release(parked.pop())


class _Deadline:
    __slots__ = ("at", "cancelling", "fired", "task")

    def __init__(self, task: asyncio.Task[Any], at: float) -> None:
        self.task = task
        self.at = at
        self.cancelling = task.cancelling()
        self.fired = False


class _Deadlines:
    """The socket timeout of an asyncio lane's exchanges, kept by one timer for them all.

    ``asyncio.timeout`` schedules and cancels a timer per exchange, which cost a sequential
    enqueue about a quarter of its CPU. Here an exchange only notes its deadline; one timer,
    armed while exchanges are out, fires at the earliest pending deadline and cancels the
    tasks whose deadline has passed, which then raise ``TimeoutError`` (as with
    ``asyncio.timeout``, a cancel from elsewhere stays a cancel).
    """

    def __init__(self) -> None:
        self._pending: set[_Deadline] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, task: asyncio.Task[Any], timeout: float) -> _Deadline:
        loop = asyncio.get_running_loop()
        token = _Deadline(task, loop.time() + timeout)
        self._pending.add(token)
        if self._timer is None or self._loop is not loop:  # a timer of a closed loop never fires
            self._pending = {t for t in self._pending if t.task.get_loop() is loop}
            self._timer, self._loop = loop.call_at(token.at, self._fire), loop
        return token

    def stop(self, token: _Deadline) -> None:
        self._pending.discard(token)

    def expired(self, token: _Deadline) -> bool:
        """Whether ``token``'s task was cancelled for its deadline alone (then uncancelled)."""
        return token.fired and token.task.uncancel() <= token.cancelling

    def _fire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for token in [t for t in self._pending if t.at <= now]:
            self._pending.discard(token)
            token.fired = True
            token.task.cancel()
        if self._pending:
            self._timer = loop.call_at(min(t.at for t in self._pending), self._fire)


class AsyncLane(_Lane):
    """The fast lane of :class:`~asynq._broker.drivers.AsyncDriver` (one event loop).

    Between exchanges it keeps one connection *parked* (still checked out of the pool): a trip
    through redis-py's asyncio pool costs ~10 µs, and with coalescing one connection carries
    nearly every exchange. ``close()`` gives it back; a client dropped without ``close()``
    leaves it checked out until its pool is closed.
    """

    def __init__(self, client: redis.asyncio.Redis) -> None:
        super().__init__(client)
        self._coalescer: AsyncCoalescer[_Packed, list[Any]] = AsyncCoalescer(
            self._send, interrupted
        )
        self._parked: Any = None
        self._deadlines = _Deadlines()

    @classmethod
    def attach(cls, client: object) -> AsyncLane | None:
        """A lane for ``client``, or ``None`` when it must keep the plain path."""
        if _plain_standalone(client, redis.asyncio.Redis, _ASYNC_POOLS, _ASYNC_CONNECTIONS):
            assert isinstance(client, redis.asyncio.Redis)
            return cls(client)
        return None

    async def execute(
        self, call: Command | Script | Many, meanwhile: Meanwhile | None = None
    ) -> Any:
        """Run ``call``; the twin of :meth:`SyncLane.execute`."""
        once = _Once(meanwhile)
        parts, count = self._parts(call)
        try:
            if isinstance(parts, resp.Calls):
                replies = await self._exchange(parts, count, once)
            else:
                replies = await self._coalescer.submit((parts[0], count or 0, once))
        except _MeanwhileFailed as failed:
            raise failed.error from None
        calls = _many_calls(call, parts)
        if calls is not None:
            missing = resp.missing_scripts(calls, replies)
            if missing:
                payload = b"".join(resp.eval_(c) for _, c in missing)
                again = await self._exchange((payload,), len(missing), once)
                for (i, _), reply in zip(missing, again, strict=True):
                    replies[i] = reply
            return replies
        reply = replies[0]
        if isinstance(call, Script) and isinstance(reply, redis.exceptions.NoScriptError):
            reply = (await self._exchange((resp.eval_(call),), 1, once))[0]
        return _value(reply)

    async def close(self) -> None:
        """Give the parked connection back to the pool (the lane stays usable)."""
        conn, self._parked = self._parked, None
        if conn is not None:
            await self._pool.release(conn)

    async def _send(self, batch: list[_Packed]) -> list[list[Any]]:
        """Send the coalesced ``batch`` in one write; each request's share of the replies. A
        lone request's ``once`` runs once it is sent; a batch's leader builds its own later."""
        if len(batch) == 1:
            payload, count, once = batch[0]
            return [await self._exchange((payload,), count, once)]
        replies = await self._exchange(
            (b"".join([payload for payload, _, _ in batch]),), sum(c for _, c, _ in batch), nothing
        )
        shares, start = [], 0
        for _, count, _ in batch:
            shares.append(replies[start : start + count])
            start += count
        return shares

    async def _exchange(
        self, parts: Iterable[bytes], count: int | None, once: Callable[[], None]
    ) -> list[Any]:
        sending = _Sending()
        conn, self._parked = self._parked, None
        if conn is None:
            try:
                conn = await self._pool.get_connection()
            except _LINK_ERRORS as exc:
                raise NotSentError(str(exc)) from exc
        elif conn.is_connected and conn._reader.at_eof():  # closed by the server
            await conn.disconnect(nowait=True)  # the round trip reconnects
        try:
            replies: list[Any] = await conn.retry.call_with_retry(
                lambda: self._roundtrip(conn, parts, count, once, sending),
                lambda _error: conn.disconnect(),
            )
            return replies
        except _LINK_ERRORS as exc:
            sending.check(exc)
            raise
        finally:
            if self._parked is None:
                self._parked = conn
            else:
                await self._pool.release(conn)

    async def _roundtrip(
        self,
        conn: Any,
        parts: Iterable[bytes],
        count: int | None,
        once: Callable[[], None],
        sending: _Sending,
    ) -> list[Any]:
        if not conn.is_connected:
            await conn.connect()
        if conn.health_check_interval:
            await conn.check_health()
        sending.started = True
        try:
            if not conn.socket_timeout:
                return await self._write_read(conn, parts, count, once)
            task = asyncio.current_task()
            assert task is not None
            token = self._deadlines.start(task, conn.socket_timeout)
            try:
                return await self._write_read(conn, parts, count, once)
            except asyncio.CancelledError:
                if self._deadlines.expired(token):
                    raise TimeoutError from None
                raise
            finally:
                self._deadlines.stop(token)
        except _MeanwhileFailed:
            await conn.disconnect(nowait=True)  # replies are on their way; nobody will read them
            raise
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            await conn.disconnect(nowait=True)
            raise redis.exceptions.TimeoutError("Timeout talking to the socket") from exc
        except OSError as exc:
            await conn.disconnect(nowait=True)
            raise redis.exceptions.ConnectionError(f"Error while talking: {exc.args}") from exc
        except BaseException:
            await conn.disconnect(nowait=True)  # cancelled mid-reply: never reuse this stream
            raise

    async def _write_read(
        self, conn: Any, parts: Iterable[bytes], count: int | None, once: Callable[[], None]
    ) -> list[Any]:
        writer = conn._writer
        for part in parts:
            writer.write(part)
            await writer.drain()  # waits only when the transport's buffer is full
        count = _sent(parts, count)
        if not count:
            return []
        once()
        stream = conn._reader
        replies = self._readers.replies(conn, count)
        while not replies.feed(await stream.read(RECV_SIZE)):
            pass
        if conn.health_check_interval:
            conn.next_health_check = asyncio.get_running_loop().time() + conn.health_check_interval
        return self._readers.done(replies)
