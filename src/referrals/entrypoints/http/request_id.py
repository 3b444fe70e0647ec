"""``X-Request-ID``: one id per request, in every log line of it and in its answer.

The id is the request's own ``X-Request-ID`` when the peer is a trusted
proxy (``REFERRALS_TRUSTED_PROXIES``: the proxy made it, or passed its
client's on) and the value is sane (1-128 characters of ``A-Za-z0-9._:-``);
otherwise a fresh one of ours: a client cannot put text of its choosing into
the logs. One ASGI middleware, around the whole app, so every answer (404s
and problem details included) carries it.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Sequence

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from referrals.application.correlation import REQUEST_ID
from referrals.entrypoints.http.client_address import parse_ip
from referrals.settings import Network

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


_PROCESS = os.urandom(4).hex()
_SERIAL = itertools.count()


def new_request_id() -> str:
    """16 hex digits: 32 random bits drawn once per process, then a counter.

    Unique across processes (but for a 1 in 2**32 draw) and within one for
    2**32 requests, with no system call per request (``os.urandom`` each time
    was a cost a profile showed). An id correlates log lines; it guards nothing.
    """
    return f"{_PROCESS}{next(_SERIAL) & 0xFFFFFFFF:08x}"


def _trusted(scope: Scope, proxies: Sequence[Network]) -> bool:
    client = scope.get("client")
    peer = parse_ip(client[0]) if client else None
    return peer is not None and any(peer in network for network in proxies)


def _given(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _SANE.fullmatch(value) else None
    return None


def request_ids(proxies: Sequence[Network]) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware: wraps an ASGI app (Litestar takes it in ``middleware``).
    Inside another one (two mounts in one app) it leaves the outer one's id alone."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def with_request_id(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or REQUEST_ID.get() is not None:
                await app(scope, receive, send)
                return
            given = _given(scope) if proxies and _trusted(scope, proxies) else None
            request_id = given or new_request_id()
            header = (HEADER, request_id.encode("ascii"))

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), header]
                await send(message)

            token = REQUEST_ID.set(request_id)
            try:
                await app(scope, receive, send_with_id)
            finally:
                REQUEST_ID.reset(token)

        return with_request_id

    return middleware
