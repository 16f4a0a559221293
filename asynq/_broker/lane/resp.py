"""RESP bytes for the fast lane (:mod:`asynq._broker.lane.wire`), made as redis-py makes them.

- Calls are packed with ``hiredis.pack_command``, which is what redis-py itself packs with when
  hiredis is installed (it is a dependency), after the same first-argument split.
- Replies are decoded by a hiredis reader with the settings of redis-py's ``_HiredisParser``,
  so they come out as the same Python objects, and error replies as the same exception classes
  (``BaseParser.parse_error``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, Final

import hiredis
import redis.exceptions
from redis._parsers.base import BaseParser

from asynq._broker import scripts
from asynq._broker.calls import Command, Script

#: Calls packed into one chunk of a pipeline; Redis starts on a chunk while the next is packed.
CHUNK_CALLS: Final = 64

NOT_READY: Final = object()  # the reader's "need more bytes" (False is a RESP3 value)
_PUSH: Final[type | None] = getattr(hiredis, "PushNotification", None)
_CLOSED: Final = "Connection closed by server."


def reader_kwargs(connection_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The hiredis reader settings redis-py's ``_HiredisParser.on_connect`` uses."""
    kwargs: dict[str, Any] = {
        "protocolError": redis.exceptions.InvalidResponse,
        "replyError": BaseParser.parse_error,
        "errors": connection_kwargs.get("encoding_errors", "strict"),
        "notEnoughData": NOT_READY,
    }
    if connection_kwargs.get("decode_responses", False):
        kwargs["encoding"] = connection_kwargs.get("encoding", "utf-8")
    return kwargs


def pack(args: Sequence[Any]) -> bytes:
    """RESP-encode one command exactly like redis-py's ``HiredisRespSerializer``."""
    name = args[0]
    if isinstance(name, str) and " " in name:  # redis-py sends "CONFIG GET" as two words
        args = (*name.encode().split(), *args[1:])
    try:
        packed: bytes = hiredis.pack_command(tuple(args))
    except TypeError as exc:  # e.g. a bool argument; redis-py reports the same as DataError
        raise redis.exceptions.DataError(exc) from exc
    return packed


def evalsha(call: Script) -> bytes:
    """``EVALSHA`` of a script call."""
    return pack(("EVALSHA", scripts.load(call.name).sha, len(call.keys), *call.keys, *call.args))


def eval_(call: Script) -> bytes:
    """``EVAL`` of a script call (after NOSCRIPT)."""
    return pack(("EVAL", scripts.load(call.name).source, len(call.keys), *call.keys, *call.args))


def packed(call: Command | Script) -> bytes:
    """One call as it goes on the wire (scripts as ``EVALSHA``)."""
    return evalsha(call) if isinstance(call, Script) else pack(call.args)


def missing_scripts(
    calls: Sequence[Command | Script], replies: list[Any]
) -> list[tuple[int, Script]]:
    """The scripts of a pipeline that Redis did not know (NOSCRIPT), with their positions."""
    return [
        (i, call)
        for i, (call, reply) in enumerate(zip(calls, replies, strict=True))
        if isinstance(call, Script) and isinstance(reply, redis.exceptions.NoScriptError)
    ]


class Calls:
    """The calls of a pipeline (or stream), packed ``CHUNK_CALLS`` at a time as they are sent.

    Iterating gives the packed chunks, producing the calls on the first pass only; chunks and
    calls are kept, so a retry after a dropped connection sends them all again, and ``calls``
    (complete once sent) tells how many replies to read and which scripts to resend after
    NOSCRIPT. ``check`` vets each call as it is produced.
    """

    __slots__ = ("_check", "_chunks", "_source", "calls")

    def __init__(
        self,
        source: Iterable[Command | Script],
        check: Callable[[Command | Script], object] | None = None,
    ) -> None:
        self._source = iter(source)
        self._check = check
        self._chunks: list[bytes] = []
        self.calls: list[Command | Script] = []

    def __iter__(self) -> Iterator[bytes]:
        yield from list(self._chunks)
        while group := list(islice(self._source, CHUNK_CALLS)):
            if self._check is not None:
                for call in group:
                    self._check(call)
            chunk = b"".join(map(packed, group))
            self.calls.extend(group)
            self._chunks.append(chunk)
            yield chunk


class Replies:
    """Collects ``count`` replies from the bytes read off one connection."""

    __slots__ = ("count", "on_push", "reader", "replies")

    def __init__(self, reader: hiredis.Reader, count: int, on_push: Callable[[Any], Any]) -> None:
        self.reader = reader
        self.count = count
        self.replies: list[Any] = []
        self.on_push = on_push

    def feed(self, data: bytes) -> bool:
        """Add bytes read from the socket; return True once every reply is in.

        Raises:
            redis.exceptions.ConnectionError: the server closed the connection, or replied
                with an error that redis-py maps to one (it then retries).
            redis.exceptions.InvalidResponse: the stream holds more than was asked for.
        """
        if not data:
            raise redis.exceptions.ConnectionError(_CLOSED)
        reader, replies = self.reader, self.replies
        reader.feed(data)
        while True:
            reply = reader.gets()
            if reply is NOT_READY:
                return False
            if _PUSH is not None and isinstance(reply, _PUSH):
                self.on_push(reply)  # e.g. a maintenance notice: redis-py's parser handles it
                continue
            if isinstance(reply, redis.exceptions.ConnectionError):
                raise reply
            replies.append(reply)
            if len(replies) == self.count:
                if reader.has_data():
                    raise redis.exceptions.InvalidResponse("unexpected data after the replies")
                return True


def push_handler(conn: Any) -> Callable[[Any], Any]:
    """How ``conn``'s own parser handles RESP3 push messages (or a no-op)."""
    handler = getattr(getattr(conn, "_parser", None), "handle_push_response", None)
    return handler if callable(handler) else (lambda _push: None)


class ReaderPool:
    """Reusable hiredis readers: building one with redis-py's settings costs ~1 µs. Only a
    reader that ended an exchange cleanly (holding no bytes) comes back; ``list.pop`` and
    ``append`` are atomic, so threads can share a pool."""

    __slots__ = ("_free", "_kwargs")

    KEPT: Final = 8

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self._kwargs = kwargs
        self._free: list[hiredis.Reader] = []

    def replies(self, conn: Any, count: int) -> Replies:
        """A collector of ``count`` replies read off ``conn``."""
        try:
            reader = self._free.pop()
        except IndexError:
            reader = hiredis.Reader(**self._kwargs)
        return Replies(reader, count, push_handler(conn))

    def done(self, replies: Replies) -> list[Any]:
        """Take back the reader of a complete exchange; return its replies."""
        if len(self._free) < self.KEPT:
            self._free.append(replies.reader)
        return replies.replies
