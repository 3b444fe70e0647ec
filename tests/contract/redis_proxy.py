"""A TCP forwarder to Redis that tests take down and bring back on the same port."""

from __future__ import annotations

import asyncio
import contextlib


class RedisProxy:
    """Forwards ``127.0.0.1:{port}`` to Redis: :meth:`stop` starts an outage, :meth:`start`
    ends it, on the same port.

    With ``hang=True`` it accepts connections and never answers: a Redis that is
    up but stuck (or a network that drops packets).
    """

    def __init__(self, host: str, port: int, *, hang: bool = False) -> None:
        self._target = (host, port)
        self._hang = hang
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut every open one, as a crashed server would."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
        self._writers.clear()
        self._tasks.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self._hang:
            await self._pipe(reader, None)
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers.add(upstream_writer)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter | None) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if sink is not None:
                    sink.write(data)
                    await sink.drain()
        if sink is not None:
            sink.close()
