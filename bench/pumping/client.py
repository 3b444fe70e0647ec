"""A small HTTP/1.1 client for the drill: keep-alive connections in a pool,
JSON in, status and body out.

httpx spends about a millisecond of CPU per request; at 200 requests a
second in the same event loop as the fake gateway, that starved the gateway
and made codes look late. This client does what the drill needs (POST and
GET, ``Content-Length`` and chunked answers) in a small part of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any


class HttpError(Exception):
    """No answer: the connection failed or closed mid-answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
FAILURES = (
    OSError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    TimeoutError,
    ValueError,
)


class Client:
    """Requests to ``127.0.0.1:port``, at most ``size`` connections at once."""

    def __init__(self, port: int, size: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.idle: list[Connection] = []
        self.gate = asyncio.Semaphore(size)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        async with self.gate:
            while self.idle:  # a kept connection the server has closed fails at once: the next
                with contextlib.suppress(*FAILURES):
                    return await self._on(self.idle.pop(), head + data)
            try:
                connection = await asyncio.open_connection("127.0.0.1", self.port)
                return await self._on(connection, head + data)
            except FAILURES as exc:
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc

    async def _on(self, connection: Connection, request: bytes) -> Answer:
        try:
            async with asyncio.timeout(self.timeout):
                answer, keep = await _exchange(connection, request)
        except FAILURES:
            connection[1].close()
            raise
        if keep:
            self.idle.append(connection)
        else:
            connection[1].close()
        return answer

    async def aclose(self) -> None:
        for _, writer in self.idle:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self.idle.clear()


async def _exchange(connection: Connection, request: bytes) -> tuple[Answer, bool]:
    reader, writer = connection
    writer.write(request)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip().lower()
    if fields.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        body = await reader.readexactly(int(fields.get("content-length", "0")))
    return Answer(status, body), fields.get("connection") != "close"
