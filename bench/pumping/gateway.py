"""The drill's fake SMS gateway: a local receiver of the webhook channel
(``REFERRALS_SMS_GATEWAY=webhook``), served on the drill's own event loop.

It answers every POST 200 and keeps, per phone, the codes that arrived and
when (a retry of a message, by its id, is not counted twice), so simulated
people read their code as a phone would, and the bill is what the gateway
was asked to send (segments x price).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from referrals.domain.segments import sms_size

CODE = re.compile(rb"\d{4,8}")
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@dataclass
class FakeGateway:
    """What reached the gateway: ``(arrival, code)`` per phone, segments in all."""

    url: str = ""
    arrivals: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    segments: int = 0
    messages: int = 0
    waiting: dict[str, list[asyncio.Future[None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """Per phone, the readers waiting for its next code (woken one phone at a time)."""
    open: dict[asyncio.StreamWriter, asyncio.Task[None]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    """Message ids received: a retry of one (same id) is answered, not counted again."""

    def record(self, body: bytes) -> None:
        message = json.loads(body)
        if message["id"] in self.seen:
            return
        self.seen.add(message["id"])
        found = CODE.search(message["text"].encode())
        self.messages += 1
        self.segments += sms_size(message["text"]).segments
        phone = message["to"]
        self.arrivals[phone].append((time.monotonic(), found.group().decode() if found else ""))
        for waiter in self.waiting.pop(phone, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def code(self, phone: str, since: float, patience: float) -> tuple[float, str] | None:
        """The first ``(arrival, code)`` for ``phone`` that arrived after ``since``,
        waiting up to ``patience`` seconds; ``None`` if none came."""
        deadline = time.monotonic() + patience
        while True:
            found = next((a for a in self.arrivals.get(phone, ()) if a[0] >= since), None)
            left = deadline - time.monotonic()
            if found is not None or left <= 0:
                return found
            waiter = asyncio.get_running_loop().create_future()
            self.waiting[phone].append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, left)

    async def serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests of one keep-alive connection, until the client closes it."""
        task = asyncio.current_task()
        assert task is not None
        self.open[writer] = task
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                self.record(await reader.readexactly(length))
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.open.pop(writer, None)

    async def close(self) -> None:
        """End the connections still open (their handlers see the end, not a cancel)."""
        tasks = list(self.open.values())
        for writer in list(self.open):
            writer.close()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def fake_gateway() -> AsyncIterator[FakeGateway]:
    """A :class:`FakeGateway` listening on a free 127.0.0.1 port until the block ends."""
    gateway = FakeGateway()
    server = await asyncio.start_server(gateway.serve_one, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    gateway.url = f"http://127.0.0.1:{port}/sms"
    try:
        yield gateway
    finally:
        server.close()
        for _ in range(3):  # a connection accepted just before the close starts late
            await gateway.close()
            await asyncio.sleep(0)
        await server.wait_closed()
