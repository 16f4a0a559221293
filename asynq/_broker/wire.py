"""The drivers' fast lane: RESP bytes written straight onto redis-py's pooled sockets.

redis-py's ``execute_command`` spends far longer on generic machinery (argument encoding,
observability hooks, event dispatch, retry closures, pool bookkeeping) than a local Redis takes
to run an enqueue script, so the producer hot path talks to the connection directly. The lane
keeps every contract of the plain path:

- **Bytes.** Calls are packed with ``hiredis.pack_command``, which is what redis-py itself packs
  with when hiredis is installed (it is a dependency), after the same first-argument split.
- **Replies.** A hiredis reader built exactly like redis-py's parser decodes them, so the lane
  takes only calls whose replies redis-py would not post-process: scripts, and commands without
  a response callback. Error replies become the same exception classes
  (``BaseParser.parse_error``), returned as values for the caller to raise or keep.
- **Connections.** Each exchange borrows a connection from the client's own pool and gives it
  back. A socket failure disconnects it and the exchange is retried under the connection's
  ``Retry`` policy, as redis-py does; an interrupted read disconnects, so no reply is left
  behind for the next user.

Only plain standalone clients take the lane (TCP or Unix socket, no TLS, no client-side cache,
not Sentinel or Cluster, not a single-connection client); every other client, and every other
call, goes the plain redis-py way. The lane does not emit redis-py's OpenTelemetry command
metrics.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import weakref
from collections.abc import Callable, Sequence
from time import monotonic, perf_counter
from typing import Any, Final

import hiredis
import redis
import redis.asyncio
import redis.asyncio.connection as aconn
import redis.connection as sconn
import redis.exceptions
from redis._parsers.base import BaseParser

from asynq._broker import scripts
from asynq._broker.calls import Command, Pipeline, Script

#: Bytes asked of the socket per read.
RECV_SIZE: Final = 65536

#: Exchanges with more replies than this (pipelines) always sleep in ``recv``: their replies
#: take longer than any sensible poll.
POLL_MAX_REPLIES: Final = 4
#: The longest a poll lasts before it gives up and sleeps in ``recv``.
POLL_LIMIT_SECONDS: Final = 0.0005
#: One exchange in this many tries the wait that is currently losing, to notice a change.
PROBE_EVERY: Final = 16
#: Connections a sync lane keeps checked out between exchanges (see SyncLane).
PARK_LIMIT: Final = 4

_READERS_KEPT: Final = 8
_NOT_READY: Final = object()  # hiredis reader: "need more bytes" (False is a RESP3 value)
_PUSH: Final[type | None] = getattr(hiredis, "PushNotification", None)
_CLOSED: Final = "Connection closed by server."
_HAS_POLL: Final = hasattr(select, "poll")

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
        and int(hiredis.__version__.split(".")[0]) >= 3  # RESP3 frames (redis-py's default)
    )


def _reader_kwargs(pool: Any) -> dict[str, Any]:
    """The hiredis reader settings redis-py's ``_HiredisParser.on_connect`` uses."""
    options = pool.connection_kwargs
    kwargs: dict[str, Any] = {
        "protocolError": redis.exceptions.InvalidResponse,
        "replyError": BaseParser.parse_error,
        "errors": options.get("encoding_errors", "strict"),
        "notEnoughData": _NOT_READY,
    }
    if options.get("decode_responses", False):
        kwargs["encoding"] = options.get("encoding", "utf-8")
    return kwargs


def _pack(args: Sequence[Any]) -> bytes:
    """RESP-encode one command exactly like redis-py's ``HiredisRespSerializer``."""
    name = args[0]
    if isinstance(name, str) and " " in name:  # redis-py sends "CONFIG GET" as two words
        args = (*name.encode().split(), *args[1:])
    try:
        packed: bytes = hiredis.pack_command(tuple(args))
    except TypeError as exc:  # e.g. a bool argument; redis-py reports the same as DataError
        raise redis.exceptions.DataError(exc) from exc
    return packed


def _evalsha(call: Script) -> bytes:
    return _pack(("EVALSHA", scripts.load(call.name).sha, len(call.keys), *call.keys, *call.args))


def _eval(call: Script) -> bytes:
    return _pack(("EVAL", scripts.load(call.name).source, len(call.keys), *call.keys, *call.args))


def _packed(call: Command | Script) -> bytes:
    return _evalsha(call) if isinstance(call, Script) else _pack(call.args)


def _noscript(reply: Any) -> bool:
    return isinstance(reply, redis.exceptions.NoScriptError)


def _missing_scripts(
    calls: Sequence[Command | Script], replies: list[Any]
) -> list[tuple[int, Script]]:
    """The scripts of a pipeline that Redis did not know (NOSCRIPT), with their positions."""
    return [
        (i, call)
        for i, (call, reply) in enumerate(zip(calls, replies, strict=True))
        if isinstance(call, Script) and _noscript(reply)
    ]


class _Replies:
    """Collects ``count`` replies from the bytes fed in; shared by both lanes."""

    __slots__ = ("count", "on_push", "reader", "replies")

    def __init__(self, reader: hiredis.Reader, count: int, on_push: Callable[[Any], Any]) -> None:
        self.reader = reader
        self.count = count
        self.replies: list[Any] = []
        self.on_push = on_push

    def feed(self, data: bytes) -> bool:
        """Add bytes read from the socket; return True once every reply is in."""
        if not data:
            raise redis.exceptions.ConnectionError(_CLOSED)
        reader, replies = self.reader, self.replies
        reader.feed(data)
        while True:
            reply = reader.gets()
            if reply is _NOT_READY:
                return False
            if _PUSH is not None and isinstance(reply, _PUSH):
                self.on_push(reply)  # e.g. a maintenance notice: redis-py's parser handles it
                continue
            if isinstance(reply, redis.exceptions.ConnectionError):
                raise reply  # redis-py raises these from the parser too (and then retries)
            replies.append(reply)
            if len(replies) == self.count:
                if reader.has_data():  # more than we asked for: the stream is out of step
                    raise redis.exceptions.InvalidResponse("unexpected data after the replies")
                return True


def _push_handler(conn: Any) -> Callable[[Any], Any]:
    handler = getattr(getattr(conn, "_parser", None), "handle_push_response", None)
    return handler if callable(handler) else (lambda _push: None)


class Waiting:
    """Waits for a small reply by polling the socket or by sleeping in ``recv``, whichever has
    lately been faster.

    On an idle multi-core machine a thread asleep in ``recv`` wakes tens of microseconds after
    its reply lands (on the reference 2-core VM, ~50 µs: longer than Redis takes to run an
    enqueue script), so polling the socket halves the wall time of an enqueue; Go's runtime
    likewise spins before it parks a goroutine on its network poller. When the cores are busy,
    though, polling takes CPU from Redis and everyone else, and sleeping wins. So both are timed
    (send to complete reply, smoothed), the faster is used, and every ``PROBE_EVERY``-th wait
    tries the other. A poll gives up after ``POLL_LIMIT_SECONDS``; each poll releases the GIL.
    Shared by the threads of one client: the updates race harmlessly.
    """

    __slots__ = ("count", "poll_seconds", "sleep_seconds")

    def __init__(self) -> None:
        self.count = 0
        self.poll_seconds = 0.0  # smoothed wait when polling (0: not measured yet)
        self.sleep_seconds = 0.0

    def wait(self, sock: socket.socket, replies: _Replies) -> None:
        """Read from ``sock`` into ``replies`` until they are complete."""
        self.count += 1
        poll = self.poll_seconds <= self.sleep_seconds
        if self.count % PROBE_EVERY == 0:
            poll = not poll
        start = perf_counter()
        if poll:
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            deadline = start + POLL_LIMIT_SECONDS
            while not poller.poll(0) and perf_counter() < deadline:
                pass
        while not replies.feed(sock.recv(RECV_SIZE)):
            pass
        elapsed = perf_counter() - start
        if poll:
            self.poll_seconds = _smooth(self.poll_seconds, elapsed)
        else:
            self.sleep_seconds = _smooth(self.sleep_seconds, elapsed)


def _smooth(average: float, sample: float) -> float:
    """An exponential moving average (1/8) that a single descheduled outlier cannot swamp."""
    if not average:
        return sample
    return average + (min(sample, 4 * average) - average) / 8


class _Lane:
    """What both lanes share: which calls they take and how a Pipeline is packed."""

    def __init__(self, client: Any) -> None:
        self._pool: Any = client.connection_pool
        self._callbacks: Any = client.response_callbacks
        self._reader_kwargs = _reader_kwargs(self._pool)
        # Readers are reused (building one with redis-py's settings costs ~1 µs). Only a reader
        # that ended an exchange cleanly, holding no bytes, comes back; list.pop/append are
        # atomic, so threads can share the list.
        self._readers: list[hiredis.Reader] = []

    def _replies(self, conn: Any, count: int) -> _Replies:
        try:
            reader = self._readers.pop()
        except IndexError:
            reader = hiredis.Reader(**self._reader_kwargs)
        return _Replies(reader, count, _push_handler(conn))

    def _done(self, replies: _Replies) -> list[Any]:
        if len(self._readers) < _READERS_KEPT:
            self._readers.append(replies.reader)
        return replies.replies

    def accepts(self, call: Command | Script | Pipeline) -> bool:
        """Whether the lane returns for ``call`` exactly what redis-py would."""
        if isinstance(call, Script):
            return True
        if isinstance(call, Command):
            return self._raw_reply(call)
        if call.transaction:
            return False
        return all(isinstance(sub, Script) or self._raw_reply(sub) for sub in call.calls)

    def _raw_reply(self, call: Command) -> bool:
        name = call.args[0] if call.args else None
        return isinstance(name, str) and name not in self._callbacks


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
        #: How small exchanges wait for their reply; ``None`` always sleeps in ``recv``.
        self.waiting: Waiting | None = Waiting() if _HAS_POLL else None
        self._park_limit = min(PARK_LIMIT, self._pool.max_connections // 8)
        self._parked: list[Any] = []
        self._pid = os.getpid()
        weakref.finalize(self, _unpark, self._pool, self._parked, self._pid)

    @classmethod
    def attach(cls, client: object) -> SyncLane | None:
        """A lane for ``client``, or ``None`` when it must keep the plain path."""
        if _plain_standalone(client, redis.Redis, _SYNC_POOLS, _SYNC_CONNECTIONS):
            assert isinstance(client, redis.Redis)
            return cls(client)
        return None

    def execute(self, call: Command | Script | Pipeline) -> Any:
        """Run ``call``; a Pipeline returns its replies with errors as values.

        Raises:
            redis.exceptions.RedisError: the reply of a single call is an error, or Redis failed.
        """
        if isinstance(call, Pipeline):
            return self._pipeline(call.calls)
        reply = self._exchange(_packed(call), 1)[0]
        if isinstance(call, Script) and _noscript(reply):
            reply = self._exchange(_eval(call), 1)[0]
        if isinstance(reply, redis.exceptions.RedisError):
            raise reply
        return reply

    def _pipeline(self, calls: Sequence[Command | Script]) -> list[Any]:
        if not calls:
            return []
        replies = self._exchange(b"".join(map(_packed, calls)), len(calls))
        missing = _missing_scripts(calls, replies)
        if missing:  # NOSCRIPT means the script did not run: sending its source is safe
            again = self._exchange(b"".join(_eval(c) for _, c in missing), len(missing))
            for (i, _), reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    def close(self) -> None:
        """Give the parked connections back to the pool (the lane stays usable)."""
        _unpark(self._pool, self._parked, self._pid)

    def _exchange(self, payload: bytes, count: int) -> list[Any]:
        conn = self._checkout()
        try:
            result: list[Any] = conn.retry.call_with_retry(
                lambda: self._roundtrip(conn, payload, count), lambda _error: conn.disconnect()
            )
            return result
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

    def _roundtrip(self, conn: Any, payload: bytes, count: int) -> list[Any]:
        conn.send_packed_command((payload,))  # connects if needed; maps socket errors
        sock: socket.socket = conn._sock
        try:
            replies = self._replies(conn, count)
            waiting = self.waiting if count <= POLL_MAX_REPLIES else None
            if waiting is None:
                while not replies.feed(sock.recv(RECV_SIZE)):
                    pass
            else:
                waiting.wait(sock, replies)
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
        return self._done(replies)


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


class AsyncLane(_Lane):
    """The fast lane of :class:`~asynq._broker.drivers.AsyncDriver` (one event loop)."""

    @classmethod
    def attach(cls, client: object) -> AsyncLane | None:
        """A lane for ``client``, or ``None`` when it must keep the plain path."""
        if _plain_standalone(client, redis.asyncio.Redis, _ASYNC_POOLS, _ASYNC_CONNECTIONS):
            return cls(client)
        return None

    async def execute(self, call: Command | Script | Pipeline) -> Any:
        """Run ``call``; the twin of :meth:`SyncLane.execute`."""
        if isinstance(call, Pipeline):
            return await self._pipeline(call.calls)
        reply = (await self._exchange(_packed(call), 1))[0]
        if isinstance(call, Script) and _noscript(reply):
            reply = (await self._exchange(_eval(call), 1))[0]
        if isinstance(reply, redis.exceptions.RedisError):
            raise reply
        return reply

    async def _pipeline(self, calls: Sequence[Command | Script]) -> list[Any]:
        if not calls:
            return []
        replies = await self._exchange(b"".join(map(_packed, calls)), len(calls))
        missing = _missing_scripts(calls, replies)
        if missing:
            again = await self._exchange(b"".join(_eval(c) for _, c in missing), len(missing))
            for (i, _), reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _exchange(self, payload: bytes, count: int) -> list[Any]:
        pool = self._pool
        conn = await pool.get_connection()
        try:
            result: list[Any] = await conn.retry.call_with_retry(
                lambda: self._roundtrip(conn, payload, count), lambda _error: conn.disconnect()
            )
            return result
        finally:
            await pool.release(conn)

    async def _roundtrip(self, conn: Any, payload: bytes, count: int) -> list[Any]:
        if not conn.is_connected:
            await conn.connect()
        if conn.health_check_interval:
            await conn.check_health()
        try:
            if conn.socket_timeout:
                async with asyncio.timeout(conn.socket_timeout):
                    return await self._write_read(conn, payload, count)
            return await self._write_read(conn, payload, count)
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            await conn.disconnect(nowait=True)
            raise redis.exceptions.TimeoutError("Timeout talking to the socket") from exc
        except OSError as exc:
            await conn.disconnect(nowait=True)
            raise redis.exceptions.ConnectionError(f"Error while talking: {exc.args}") from exc
        except BaseException:
            await conn.disconnect(nowait=True)  # cancelled mid-reply: never reuse this stream
            raise

    async def _write_read(self, conn: Any, payload: bytes, count: int) -> list[Any]:
        writer = conn._writer
        writer.write(payload)
        await writer.drain()
        stream = conn._reader
        replies = self._replies(conn, count)
        while not replies.feed(await stream.read(RECV_SIZE)):
            pass
        if conn.health_check_interval:
            conn.next_health_check = asyncio.get_running_loop().time() + conn.health_check_interval
        return self._done(replies)
