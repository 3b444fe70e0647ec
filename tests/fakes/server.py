"""A real HTTP server on 127.0.0.1 that plays one provider (see its subclasses).

Each request is checked the way the provider checks it (a subclass's
:meth:`FakeProvider.answer`) and recorded; what a request sends to a phone
lands in :attr:`FakeProvider.sent`. :meth:`FakeProvider.answer_next` makes
the next request meet a scripted trouble instead.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from referrals.testing.contracts.sms_gateway import GATEWAY_TIMEOUT, Delivered, Trouble

SLOW = GATEWAY_TIMEOUT * 2
"""How long a :attr:`Trouble.SLOW` answer takes."""


class Refused(Exception):
    """A request the provider would refuse: answered with ``status`` and ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes

    def form(self) -> dict[str, str]:
        """The ``application/x-www-form-urlencoded`` body, strictly UTF-8 as providers read it."""
        if not self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise Refused(400, {"error": "expected a form body"})
        try:
            text = self.body.decode("ascii")
            return dict(
                parse_qsl(
                    text,
                    keep_blank_values=True,
                    strict_parsing=bool(text),
                    encoding="utf-8",
                    errors="strict",
                )
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(400, {"error": f"bad form body: {exc}"}) from None

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(400, {"error": f"bad JSON: {exc}"}) from None


@dataclass
class FakeProvider:
    """The common part; a subclass gives :meth:`answer` and :meth:`trouble`."""

    troubles: frozenset[Trouble] = frozenset()
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    sent: list[Delivered] = field(default_factory=list)
    script: list[Trouble] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Delivered]:
        with self.lock:
            return list(self.sent)

    def answer_next(self, trouble: Trouble) -> None:
        assert trouble in self.troubles, trouble
        with self.lock:
            self.script.append(trouble)

    def deliver(self, delivered: Delivered) -> None:
        with self.lock:
            self.sent.append(delivered)

    def handle(self, request: Request) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(request)
            trouble = self.script[0] if self.script else None
            if trouble is Trouble.TAKEN_SLOW and not self.sends(request):
                trouble = None  # it waits for the request that sends
            elif trouble is not None:
                self.script.pop(0)
        try:
            if trouble is Trouble.SLOW:
                time.sleep(SLOW)
                return 503, {"error": "slow"}
            if trouble is Trouble.TAKEN_SLOW:
                answer = self.answer(request, bad_credentials=False)
                time.sleep(SLOW)
                return answer
            if trouble is not None and trouble is not Trouble.BAD_CREDENTIALS:
                return self.trouble(trouble, request)
            return self.answer(request, bad_credentials=trouble is Trouble.BAD_CREDENTIALS)
        except Refused as refused:
            return refused.status, refused.body

    def sends(self, request: Request) -> bool:
        """Whether ``request`` is the one that sends a message (not a check or a lookup)."""
        return True

    def answer(self, request: Request, *, bad_credentials: bool) -> tuple[int, Any]:
        """Check ``request`` as the provider does; what it answers."""
        raise NotImplementedError

    def trouble(self, trouble: Trouble, request: Request) -> tuple[int, Any]:
        """The provider's documented answer for ``trouble``."""
        raise NotImplementedError


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = urlsplit(self.path)
            request = Request(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            status, answer = fake.handle(request)
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            kind = "text/plain" if isinstance(answer, bytes) else "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the caller timed out and hung up

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


Fake = TypeVar("Fake", bound=FakeProvider)


@contextlib.contextmanager
def serving(fake: Fake) -> Iterator[Fake]:
    """Serve ``fake`` on 127.0.0.1 (any free port) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
