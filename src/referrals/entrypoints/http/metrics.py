"""Prometheus metrics of the standalone API: the per-request instruments
(one ASGI wrapper, in one place) and ``GET /metrics``.

Per request: one counter increment and one histogram observation, on
label children cached by (route template, method, status), so nothing is
allocated for labels after a route's first request. The route is the
template Litestar matched (``/api/verify/{token:str}``), never the path;
unknown paths count as ``unmatched``, unknown methods as ``other``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler

from referrals.application.errors import ServiceUnavailable
from referrals.entrypoints.http.request_guard import ANSWERED, marks

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from referrals.adapters.metrics import Metrics

METRICS_STATE = "referrals_metrics"
"""Where the app keeps its :class:`Metrics` (``app.state``)."""
CONTENT_TYPE = "text/plain; version=0.0.4"
"""Prometheus' text format; Litestar adds ``charset=utf-8`` to ``text/*``."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class RequestMetrics:
    """Wraps the app's ASGI handler; counts and times every HTTP request."""

    __slots__ = ("_app", "_children", "_requests", "_seconds")

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._requests = metrics.requests
        self._seconds = metrics.request_seconds
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            # Litestar writes the matched template into this same scope, and the
            # request guard the status it answered instead of the app.
            status = marks(scope).get(ANSWERED, status)
            key = (scope.get("path_template", UNMATCHED), scope["method"], status)
            children = self._children.get(key)
            if children is None:
                children = self._label(*key)
            children[0].inc()
            children[1].observe(elapsed)

    def _label(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        method_label = method if method in METHODS else "other"
        children = (
            self._requests.labels(route, method_label, str(status)),
            self._seconds.labels(route, method_label),
        )
        if method in METHODS:  # other methods share "other" without growing the cache
            self._children[(route, method, status)] = children
        return children


def count_unavailable(request: Request[Any, Any, Any], exc: ServiceUnavailable) -> None:
    """Count a 503 by the dependency that was away (when metrics are on)."""
    metrics = request.app.state.get(METRICS_STATE)
    if metrics is not None:
        metrics.dependency_failed(exc.what)


def metrics_route(exposed: Any) -> HTTPRouteHandler:
    """``GET /metrics`` reading ``exposed`` (a prometheus registry)."""
    from referrals.adapters.metrics import exposition

    @get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        media_type=CONTENT_TYPE,
        include_in_schema=True,
    )
    async def metrics() -> Response[bytes]:
        """Prometheus text format: requests, codes, verifications, limits,
        referrals, users, dependency errors, the queue's backlog."""
        body = await asyncio.to_thread(exposition, exposed)
        return Response(body, media_type=CONTENT_TYPE)

    return metrics
