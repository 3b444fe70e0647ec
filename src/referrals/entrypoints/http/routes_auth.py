"""Logging in and out: /api/login/, /api/verify/{token}/, /api/logout/."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post, route
from litestar.params import JSONBody, Parameter
from msgspec import UNSET

from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.entrypoints.http.deps import SettingsDep, UseCasesDep, json_only
from referrals.entrypoints.http.problems import error_responses
from referrals.entrypoints.http.schemas import (
    LoginIn,
    LoginOut,
    LogoutOut,
    ProfileOut,
    UserPhone,
    VerifyIn,
    VerifyOut,
)
from referrals.entrypoints.http.session import (
    cleared_cookie,
    client_ip,
    session_cookie,
    session_token,
)

AnyRequest = Request[Any, Any, Any]


@post(
    "/api/login/",
    status_code=200,
    tags=["auth"],
    summary="Send a login code to a phone",
    description="Queues a one-time code for the phone and answers at once with a token "
    "for the verify endpoint. The same answers and timing for new and known phones.",
    guards=[json_only],
    responses=error_responses(400, 413, 415, 429, 503),
)
async def login(
    request: AnyRequest, data: JSONBody[LoginIn], use_cases: UseCasesDep, settings: SettingsDep
) -> LoginOut:
    ip = client_ip(request, settings.trusted_proxies)
    result = await use_cases.request_code(CodeRequest(phone=data.phone, client_ip=ip))
    next_page = str(request.url_for("verify", token=result.token)).rstrip("/") + "/"
    return LoginOut(
        user=UserPhone(phone=result.phone),
        token=result.token,
        next_page=next_page,
        expires_in=result.expires_in,
        resend_after=result.resend_after,
        confirm_code=UNSET if result.code is None else result.code,
    )


@post(
    "/api/verify/{token:str}/",
    name="verify",
    status_code=200,
    tags=["auth"],
    summary="Exchange the code for a session",
    description="Creates the user on first login and opens a 30-day session, sent both "
    "as an HttpOnly cookie and as a Bearer token.",
    guards=[json_only],
    responses=error_responses(400, 413, 415, 429, 503),
)
async def verify(
    request: AnyRequest,
    token: Annotated[str, Parameter(max_length=128, description="From the login answer.")],
    data: JSONBody[VerifyIn],
    use_cases: UseCasesDep,
    settings: SettingsDep,
) -> Response[VerifyOut]:
    ip = client_ip(request, settings.trusted_proxies)
    verified = await use_cases.verify(VerifyCode(token=token, code=data.confirm_code, client_ip=ip))
    session = verified.session
    body = VerifyOut(
        access_token=session.token,
        token_type="Bearer",  # noqa: S106 - a scheme name, not a secret
        expires_in=session.expires_in,
        is_new_user=verified.is_new_user,
        user=ProfileOut.of(verified.profile),
    )
    cookie = session_cookie(session.token, session.expires_in, settings.cookie_secure)
    return Response(body, cookies=[cookie])


@route(
    "/api/logout/",
    http_method=["GET", "POST"],
    status_code=200,
    tags=["auth"],
    summary="End the session",
    description="Revokes the session server-side at once and clears the cookie. "
    "Answers 200 without a session too, so it is safe to repeat.",
    responses=error_responses(503),
)
async def logout(
    request: AnyRequest, use_cases: UseCasesDep, settings: SettingsDep
) -> Response[LogoutOut]:
    await use_cases.logout(session_token(request))
    return Response(LogoutOut(), cookies=[cleared_cookie(settings.cookie_secure)])


@get("/health", tags=["ops"], summary="Liveness", include_in_schema=True)
async def health() -> dict[str, str]:
    return {"status": "ok"}
