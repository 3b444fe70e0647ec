"""A server span around every HTTP request, installed only when tracing is on.

It continues a caller's trace (``traceparent``), and is named after the
route template once the app has routed the request (``POST
/api/verify/{token:str}/``), so no login token ever lands in a span name.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from referrals.adapters import tracing


def traced_requests(app: ASGIApp) -> ASGIApp:
    """Wrap the app's whole handler (see :func:`tracing.start_tracing`)."""
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind, Status, StatusCode

    async def with_span(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        with tracing.tracer().start_as_current_span(
            f"{method}",
            context=propagate.extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await app(scope, receive, send_with_status)
            finally:
                template = scope.get("path_template")
                if template:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)

    return with_span
