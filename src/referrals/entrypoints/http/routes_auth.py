"""Logging in and out: ``login/``, ``verify/{token}/``, ``logout/`` under the mount path."""

# No `from __future__ import annotations`: Litestar reads these handlers' annotations
# at start-up, and some refer to values local to the builder function.

from typing import Annotated, Any

from litestar import Request, Response, get, post, route
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, Parameter
from msgspec import UNSET

from referrals.application.delivery_status import StatusQuery
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.domain.codes import LOGIN_TOKEN_LENGTH, LOGIN_TOKEN_PATTERN
from referrals.entrypoints.http import links
from referrals.entrypoints.http.client_address import client_address
from referrals.entrypoints.http.device import DeviceHeader, device_of
from referrals.entrypoints.http.guards import json_only, not_cross_site
from referrals.entrypoints.http.handlers import error_responses, language
from referrals.entrypoints.http.options import options_route
from referrals.entrypoints.http.runtime import Runtime
from referrals.entrypoints.http.schemas import (
    DeliveryStatusOut,
    LoginIn,
    LoginOut,
    LogoutOut,
    ProfileOut,
    UserPhone,
    VerifyIn,
    VerifyOut,
)
from referrals.entrypoints.http.session import cleared_cookie, session_cookie, session_token

AnyRequest = Request[Any, Any, Any]
Token = Annotated[
    str,
    Parameter(
        max_length=LOGIN_TOKEN_LENGTH,
        schema_extra={"pattern": f"^{LOGIN_TOKEN_PATTERN}$"},
        description="From the login answer. A token of any other shape is refused.",
    ),
]
BODY_ERRORS = (
    "validation_error",
    "request_incomplete",
    "request_timeout",
    "payload_too_large",
    "unsupported_media_type",
    "header_too_large",
)


def verify_link(
    request: AnyRequest, runtime: Runtime, token: str, route: str = "verify", param: str = "token"
) -> str:
    """The verify endpoint for ``token`` (or the ``route`` that confirms a
    step-up's): under the public URL when one is set, else a path (with the
    ASGI root path). Never from the request's Host."""
    path = request.app.route_reverse(runtime.route_name(route), **{param: token}).rstrip("/") + "/"
    public = runtime.settings.public_url
    if public:
        return public.rstrip("/") + path
    return str(request.scope.get("root_path", "")).rstrip("/") + path


def auth_routes(runtime: Runtime) -> list[HTTPRouteHandler]:
    settings = runtime.settings
    operation_ids = links.operation_ids(runtime.name)

    @post(
        "/login/",
        name=runtime.route_name("login"),
        status_code=200,
        summary="Send a login code to a phone",
        description="Queues a one-time code for the phone and answers at once with a token "
        "for the verify endpoint. The same answers and timing for new and known phones. "
        "The SMS is written in the language `Accept-Language` asks for (English or Russian).",
        guards=[json_only],
        responses=error_responses(
            *BODY_ERRORS,
            "rate_limited",
            "too_many_attempts",
            "sending_paused",
            "service_unavailable",
        ),
        operation_id=operation_ids,
        operation_class=links.after_login(runtime.name, codes_exposed=settings.policy.expose_codes),
    )
    async def login(request: AnyRequest, data: JSONBody[LoginIn]) -> LoginOut:
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        request_code = CodeRequest(phone=data.phone, client_ip=ip, language=language(request))
        result = await runtime.service.request_code(request_code)
        return LoginOut(
            user=UserPhone(phone=result.phone),
            token=result.token,
            next_page=verify_link(request, runtime, result.token),
            expires_in=result.expires_in,
            resend_after=result.resend_after,
            confirm_code=UNSET if result.code is None else result.code,
            channel=UNSET if result.channel is None else result.channel,
        )

    @get(
        "/verify/{token:str}/",
        name=runtime.route_name("delivery_status"),
        summary="Where the login's code is",
        description="Which channel carries the login's code and whether it was delivered, "
        'so a page can say "Check Telegram" or "We are trying SMS instead". Nothing '
        "about the code itself. Counts against the same per-address limit as verifying.",
        responses=error_responses("challenge_expired", "too_many_attempts", "service_unavailable"),
        operation_id=operation_ids,
    )
    async def delivery_status(request: AnyRequest, token: Token) -> DeliveryStatusOut:
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        found = await runtime.service.delivery_status(StatusQuery(token=token, client_ip=ip))
        return DeliveryStatusOut(
            channel=found.channel, status=str(found.status), failed_over=found.failed_over
        )

    @post(
        "/verify/{token:str}/",
        name=runtime.route_name("verify"),
        status_code=200,
        summary="Exchange the code for a session",
        description="Creates the user on first login and opens a session, sent both "
        "as an HttpOnly cookie and as a Bearer token.",
        guards=[json_only],
        responses=error_responses(
            *BODY_ERRORS,
            "code_invalid",
            "challenge_expired",
            "too_many_attempts",
            "service_unavailable",
        ),
        operation_id=operation_ids,
        operation_class=links.after_verify(runtime.name),
    )
    async def verify(
        request: AnyRequest,
        token: Token,
        data: JSONBody[VerifyIn],
        x_device_id: DeviceHeader = None,  # read by device_of; declared for OpenAPI
    ) -> Response[VerifyOut]:
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        agent = request.headers.get("user-agent")
        command = VerifyCode(
            token=token,
            code=data.confirm_code,
            client_ip=ip,
            user_agent=agent,
            device_id=device_of(request),
        )
        verified = await runtime.service.verify(command)
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
        "/logout/",
        name=runtime.route_name("logout"),
        http_method=["GET", "POST"],
        status_code=200,
        summary="End the session",
        description="Revokes the session server-side at once and clears the cookie. "
        "Answers 200 without a session too, so it is safe to repeat. With the cookie "
        "alone (no `Authorization` header) it must come from this site: a POST sent as "
        "`application/json`, or a request the browser marks `Sec-Fetch-Site: "
        "same-origin`; so no other site's link or form can log a user out.",
        guards=[not_cross_site],
        responses=error_responses("cross_site_request", "service_unavailable"),
        operation_id=operation_ids,
    )
    async def logout(request: AnyRequest) -> Response[LogoutOut]:
        await runtime.service.logout(session_token(request))
        return Response(LogoutOut(), cookies=[cleared_cookie(settings.cookie_secure)])

    verify_options = options_route(
        "/verify/{token:str}/", runtime.route_name("verify_options"), delivery_status, verify
    )
    return [login, verify_options, verify, delivery_status, logout]  # OPTIONS first
