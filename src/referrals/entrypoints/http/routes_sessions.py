"""The signed-in user's own sessions: ``sessions/`` under the mount path (docs/account.md)."""

# No `from __future__ import annotations`: Litestar reads these handlers' annotations
# at start-up, and some refer to values local to the builder function.

from typing import Annotated, Any

from litestar import Request, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from referrals.entrypoints.http import links
from referrals.entrypoints.http.guards import not_cross_site
from referrals.entrypoints.http.handlers import error_responses
from referrals.entrypoints.http.runtime import SECURITY, Runtime
from referrals.entrypoints.http.schemas import RevokedOut, SessionOut, SessionsOut
from referrals.entrypoints.http.session import session_token

AnyRequest = Request[Any, Any, Any]
SessionId = Annotated[
    str,
    Parameter(
        max_length=64,
        schema_extra={"pattern": "^[0-9a-f]{64}$"},
        description="A session's `id` from the list.",
    ),
]


def session_routes(runtime: Runtime) -> list[HTTPRouteHandler]:
    operation_ids = links.operation_ids(runtime.name)

    @get(
        "/sessions/",
        name=runtime.route_name("sessions"),
        summary="List one's own sessions",
        description="Every live session of the signed-in user, newest first: when it was "
        "opened and last used, the network and user agent it was opened from, and which "
        "one this request came with.",
        security=SECURITY,
        responses=error_responses("not_authenticated", "service_unavailable"),
        operation_id=operation_ids,
    )
    async def list_sessions(request: AnyRequest) -> SessionsOut:
        service = runtime.service
        token = session_token(request)
        user_id = await service.authenticate(token)
        own = await service.list_sessions(user_id, token)
        return SessionsOut(sessions=[SessionOut.of(session) for session in own])

    @delete(
        "/sessions/{session_id:str}/",
        name=runtime.route_name("revoke_session"),
        summary="End one of one's sessions",
        description="Ends the session at once (this one too, if its id is given). With the "
        "cookie alone it must come from this site (see logout).",
        security=SECURITY,
        guards=[not_cross_site],
        responses=error_responses(
            "validation_error",
            "not_authenticated",
            "cross_site_request",
            "session_not_found",
            "service_unavailable",
        ),
        operation_id=operation_ids,
    )
    async def revoke_session(request: AnyRequest, session_id: SessionId) -> None:
        service = runtime.service
        user_id = await service.authenticate(session_token(request))
        await service.revoke_session(user_id, session_id)

    @post(
        "/sessions/revoke-others/",
        name=runtime.route_name("revoke_other_sessions"),
        status_code=200,
        summary="End every other session",
        description="Signs the user out everywhere but here. With the cookie alone it "
        "must come from this site (see logout).",
        security=SECURITY,
        guards=[not_cross_site],
        responses=error_responses("not_authenticated", "cross_site_request", "service_unavailable"),
        operation_id=operation_ids,
    )
    async def revoke_other_sessions(request: AnyRequest) -> RevokedOut:
        service = runtime.service
        token = session_token(request)
        user_id = await service.authenticate(token)
        return RevokedOut(revoked=await service.revoke_other_sessions(user_id, token))

    return [list_sessions, revoke_session, revoke_other_sessions]
