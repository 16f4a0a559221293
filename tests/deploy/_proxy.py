"""A TCP proxy on loopback that makes a link to Redis slow and unreliable.

Every chunk is delayed by a random latency (order is kept within each direction), and a cutter
aborts a random open connection every so often, both ways at once, as a dropped link or a
restarted load balancer would. Clients see resets mid-command and mid-reply.

With ``lose_replies_to``, the cutter is off and, instead, a connection is aborted as soon as
Redis answers a request that contained those bytes: the request ran, its reply never arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import random


class FlakyProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<target_port>``, badly."""

    def __init__(
        self,
        target_port: int,
        *,
        latency: tuple[float, float] = (0.0, 0.01),
        cut_every: tuple[float, float] = (0.3, 1.0),
        seed: int = 1,
        lose_replies_to: bytes | None = None,
    ) -> None:
        self.target_port = target_port
        self.port = 0
        self.cuts = 0
        self._latency = latency
        self._cut_every = cut_every
        self._lose_replies_to = lose_replies_to
        self._armed: set[asyncio.StreamWriter] = set()  # links whose next reply is lost
        self._rng = random.Random(seed)
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None
        self._cutter: asyncio.Task[None] | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        if self._lose_replies_to is None:
            self._cutter = asyncio.create_task(self._cut_forever())

    async def stop(self) -> None:
        if self._cutter is not None:
            self._cutter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cutter
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._abort(link)
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            pump = asyncio.create_task(self._pump(src, dst, link, to_redis=dst is up_writer))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        *,
        to_redis: bool,
    ) -> None:
        try:
            while data := await src.read(65536):
                await asyncio.sleep(self._rng.uniform(*self._latency))
                if self._lose_replies_to is not None:
                    if to_redis and self._lose_replies_to in data:
                        self._armed.add(link[0])
                    elif not to_redis and link[0] in self._armed:
                        self.cuts += 1
                        break  # the request ran; its reply is lost with the link
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._abort(link)

    def _abort(self, link: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        self._links.discard(link)
        self._armed.discard(link[0])
        for writer in link:
            writer.transport.abort()

    async def _cut_forever(self) -> None:
        while True:
            await asyncio.sleep(self._rng.uniform(*self._cut_every))
            if self._links:
                self._abort(self._rng.choice(sorted(self._links, key=id)))
                self.cuts += 1
