"""Health: ``/health/live`` (the process serves) and ``/health/ready`` (its
dependencies answer), for load balancers, compose and Kubernetes probes.

``/health`` stays as an alias of ``/health/live``. Readiness runs the
service's probes (database, Redis, the queue's Redis: whichever are
configured) at once, each bounded by ``REFERRALS_READY_TIMEOUT``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from referrals.application.errors import ServiceUnavailable
from referrals.entrypoints.http.handlers import language, respond
from referrals.entrypoints.http.runtime import Runtime
from referrals.i18n import N_
from referrals.problems import PROBLEM_JSON, Text, problem, problem_headers

NOT_READY = N_("Not ready: {failed} did not answer.")
READY_RETRY_AFTER = 5.0
"""Seconds a client (or probe) waits before asking again whether we are ready."""


class Live(msgspec.Struct, frozen=True):
    status: str = "ok"


class Check(msgspec.Struct, frozen=True, omit_defaults=True):
    ok: Annotated[bool, msgspec.Meta(examples=[True])]
    latency_ms: Annotated[float, msgspec.Meta(examples=[0.9])]
    error: Annotated[str | None, msgspec.Meta(examples=["no answer within 2 s"])] = None
    """Why the dependency is not ready (absent when it is)."""


class Ready(msgspec.Struct, frozen=True):
    status: str
    """``ready``."""
    checks: dict[str, Check]
    """By dependency: ``database``, ``redis``, ``broker`` (those configured)."""


class NotReady(msgspec.Struct, frozen=True):
    """Problem details (RFC 9457) naming the dependencies that did not answer."""

    title: str
    status: int
    detail: str
    code: str
    failed: list[str]
    checks: dict[str, Check]


NOT_READY_SPEC = ResponseSpec(
    data_container=NotReady,
    description="A dependency did not answer; `failed` names it",
    media_type=PROBLEM_JSON,
    generate_examples=False,
    examples=[
        Example(
            summary="redis",
            value={
                "title": "Service Unavailable",
                "status": 503,
                "detail": "Not ready: redis did not answer.",
                "code": "service_unavailable",
                "failed": ["redis"],
                "checks": {
                    "database": {"ok": True, "latency_ms": 0.9},
                    "redis": {"ok": False, "latency_ms": 2000.4, "error": "no answer within 2 s"},
                },
            },
        )
    ],
)


def health_routes(runtime: Runtime) -> list[HTTPRouteHandler]:
    """``/health``, ``/health/live`` and ``/health/ready`` for the API in ``runtime``."""

    @get(["/health", "/health/live"], tags=["ops"], summary="Liveness", sync_to_thread=False)
    def live() -> Live:
        """200 while the process serves; touches no dependency."""
        return Live()

    @get(
        "/health/ready",
        tags=["ops"],
        summary="Readiness",
        responses={503: NOT_READY_SPEC},
    )
    async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
        """200 with each dependency's latency when all answer within the
        timeout; 503 problem details naming those that did not."""
        try:
            readiness = runtime.service.readiness
        except ServiceUnavailable as exc:
            app = {"app": Check(ok=False, latency_ms=0.0, error=str(exc))}
            return _not_ready(request, ["app"], app)
        report = await readiness.check()
        checks = {
            c.name: Check(ok=c.ok, latency_ms=c.latency_ms, error=c.error) for c in report.checks
        }
        if report.ready:
            return Response(Ready(status="ready", checks=checks))
        return _not_ready(request, report.failed, checks)

    return [live, ready]


def _not_ready(
    request: Request[Any, Any, Any], failed: list[str], checks: dict[str, Check]
) -> Response[Any]:
    """The catalogue's ``service_unavailable``, naming what did not answer."""
    names = ", ".join(failed)
    unavailable = ServiceUnavailable(names, retry_after=READY_RETRY_AFTER)
    lang = language(request)
    detail = Text(NOT_READY, {"failed": names}).render(lang)
    body = problem(unavailable, lang) | {"detail": detail, "failed": failed, "checks": checks}
    return respond(request, body, problem_headers(unavailable))
