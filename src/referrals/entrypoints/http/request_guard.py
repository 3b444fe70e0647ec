"""Bounds on what one request may hold of the server: its head's size and its body's time.

One pure ASGI middleware around the whole app (docs/operations.md, *Command line*):

- a request head (request line and headers, counted as the server hands them
  over: ``METHOD SP target SP HTTP/1.1 CRLF``, then ``name: value CRLF`` for
  each header and the closing ``CRLF``) of more than ``max_head_bytes`` gets
  431 ``header_too_large`` before the app sees it;
- a body that takes more than ``body_timeout`` seconds in all, or more than
  ``body_idle_timeout`` seconds between two of its pieces, gets 408
  ``request_timeout`` and the connection is closed (a slow client holds a
  slot that long at most);
- a client that goes away mid-body, or sends a malformed chunked body, gets
  400 ``request_incomplete``: a client's fault, never a 5xx.

The app sees such a body end as a disconnect and answers as it does; this
middleware answers instead, and tells the request metrics its own status
(:data:`ANSWERED`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from referrals.i18n import negotiate
from referrals.problems import PROBLEM_JSON, kind_named
from referrals.problems import answer as problem_answer

ANSWERED = "referrals.answered"
"""Scope key: the status this middleware answered instead of the app's."""
GUARDED = "referrals.guarded"
"""Scope key: an outer guard (another mount in the same app) has this request."""
_CLOSING = frozenset({"request_timeout", "request_incomplete", "header_too_large"})
_HTTP_LINE = len(b" HTTP/1.1\r\n")


def marks(scope: Scope) -> dict[str, Any]:
    """The scope as a plain dict, for this module's keys (:data:`ANSWERED`…)."""
    return cast("dict[str, Any]", scope)


def head_size(scope: Scope) -> int:
    """The bytes of the request head as the server presents it."""
    raw = marks(scope)
    target = len(raw.get("raw_path") or raw["path"].encode())
    if query := raw.get("query_string"):
        target += 1 + len(query)
    line = len(raw["method"]) + 1 + target + _HTTP_LINE
    headers = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
    return line + headers + 2


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value).decode("latin-1")
    return None


async def answer(scope: Scope, send: Send, code: str) -> None:
    """Send the catalogue's problem ``code`` (in the request's language), closing the connection."""
    kind = kind_named(code)
    language = negotiate(_header(scope, b"accept-language"))
    encoded = msgspec.json.encode(problem_answer(kind, kind.detail, language))
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(encoded)).encode()),
        (b"content-language", language.encode()),
        (b"cache-control", b"no-store"),
    ]
    if code in _CLOSING:
        headers.append((b"connection", b"close"))
    marks(scope)[ANSWERED] = kind.status
    await send({"type": "http.response.start", "status": kind.status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded, "more_body": False})


class _Body:
    """The request's ``receive``, bounded in time while the body is still coming."""

    __slots__ = ("_deadline", "_idle", "_receive", "_total", "complete", "fault")

    def __init__(self, receive: Receive, total: float, idle: float) -> None:
        self._receive = receive
        self._total = total
        self._idle = idle
        self._deadline: float | None = None
        self.complete = False
        self.fault: str | None = None

    async def __call__(self) -> ReceiveMessage:
        if self.complete or self.fault is not None:
            return await self._receive()
        now = asyncio.get_running_loop().time()
        if self._deadline is None:
            self._deadline = now + self._total
        try:
            async with asyncio.timeout_at(min(self._deadline, now + self._idle)):
                message = await self._receive()
        except TimeoutError:
            self.fault = "request_timeout"
            return {"type": "http.disconnect"}
        if message["type"] == "http.disconnect":
            self.fault = "request_incomplete"
        elif not message.get("more_body", False):
            self.complete = True
        return message


def guard_requests(
    max_head_bytes: int, body_timeout: float, body_idle_timeout: float
) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware, as a wrapper of an ASGI app (see the module's docstring)."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or GUARDED in marks(scope):
                await app(scope, receive, send)
                return
            if head_size(scope) > max_head_bytes:
                await answer(scope, send, "header_too_large")
                return
            marks(scope)[GUARDED] = True
            body = _Body(receive, body_timeout, body_idle_timeout)
            started = False

            async def sending(message: Message) -> None:
                nonlocal started
                if body.fault is not None and not started:
                    started = True
                    await answer(scope, send, body.fault)
                if started and ANSWERED in marks(scope):
                    return  # the app's own answer to a body it never got
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            await app(scope, body, sending)
            if body.fault is not None and not started:
                await answer(scope, send, body.fault)

        return guarded

    return middleware
