"""A real local HTTP server standing in for an operator's SMS webhook.

It records every request it gets and answers from a script: each entry is
an HTTP status, optionally after a pause (to make the caller time out).
Once the script runs out it answers 200. It also checks signatures the way
a receiver would, by recomputing the HMAC from the raw body.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the server answered (or was about to, for a timed-out call)

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: bytes) -> bool:
        """The receiver's check: ``sha256=`` + HMAC(secret, timestamp + "." + body)."""
        timestamp = self.headers.get("x-referrals-timestamp", "")
        expected = hmac.new(secret, timestamp.encode() + b"." + self.body, hashlib.sha256)
        given = self.headers.get("x-referrals-signature", "")
        return hmac.compare_digest("sha256=" + expected.hexdigest(), given)


@dataclass
class SmsSink:
    """The server's state; ``script`` entries are ``status`` or ``(status, pause)``."""

    url: str = ""
    script: list[int | tuple[int, float]] = field(default_factory=list)
    down: bool = False
    """While set, every request is answered 503 (an outage of the SMS service)."""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def answer(self) -> tuple[int, float]:
        with self.lock:
            if self.down:
                return 503, 0.0
            step = self.script.pop(0) if self.script else 200
        return (step, 0.0) if isinstance(step, int) else step

    def record(self, request: Received) -> None:
        with self.arrived:
            self.received.append(request)
            self.arrived.notify_all()

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Block until ``count`` requests arrived (or the timeout); return them all."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
            return list(self.received)


def _handler(sink: SmsSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, pause = sink.answer()
            headers = {k.lower(): v for k, v in self.headers.items()}
            sink.record(Received(time.monotonic(), self.path, headers, body, status))
            if pause:
                time.sleep(pause)
            payload = b'{"ok": true}' if status < 300 else b'{"error": "scripted"}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the caller timed out and hung up

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def sms_sink(
    port: int = 0, script: list[int | tuple[int, float]] | None = None
) -> Iterator[SmsSink]:
    """Serve a :class:`SmsSink` on 127.0.0.1 (``port`` 0: any free one) until the block ends."""
    sink = SmsSink(script=list(script or []))
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
