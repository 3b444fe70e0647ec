"""Deleting one's account in two steps: ``profile/delete/`` under the mount path
(``DELETE profile/`` starts it too; docs/account.md)."""

# No `from __future__ import annotations`: Litestar reads these handlers' annotations
# at start-up, and some refer to values local to the builder function.

from typing import Any, Literal

from litestar import Request, Response, get, post, route
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Operation
from litestar.params import JSONBody
from msgspec import UNSET

from referrals.application.request_code import CodeRequested
from referrals.entrypoints.http import links
from referrals.entrypoints.http.client_address import client_address
from referrals.entrypoints.http.guards import json_only, not_cross_site
from referrals.entrypoints.http.handlers import error_responses, language
from referrals.entrypoints.http.routes_auth import BODY_ERRORS, Token, verify_link
from referrals.entrypoints.http.runtime import SECURITY, Runtime
from referrals.entrypoints.http.schemas import (
    DeletedOut,
    ExportOut,
    LoginIn,
    LoginOut,
    ProfileOut,
    UserPhone,
    VerifyIn,
)
from referrals.entrypoints.http.session import cleared_cookie, session_token

AnyRequest = Request[Any, Any, Any]
CONFIRM = "confirm_deletion"
CHANGE = "confirm_phone_change"
START_ERRORS = (
    "not_authenticated",
    "cross_site_request",
    "rate_limited",
    "too_many_attempts",
    "service_unavailable",
)


def step_answer(
    request: AnyRequest, runtime: Runtime, asked: CodeRequested, confirm: str, param: str
) -> LoginOut:
    """A step-up's first answer, shaped as a login's, ``next_page`` the
    ``confirm`` route with the token as its ``param``."""
    return LoginOut(
        user=UserPhone(phone=asked.phone),
        token=asked.token,
        next_page=verify_link(request, runtime, asked.token, confirm, param),
        expires_in=asked.expires_in,
        resend_after=asked.resend_after,
        confirm_code=UNSET if asked.code is None else asked.code,
        channel=UNSET if asked.channel is None else asked.channel,
    )


def deletion_route(
    runtime: Runtime, path: str, name: str, method: Literal["DELETE", "POST"]
) -> HTTPRouteHandler:
    """The first step of deleting the account, on ``path`` with ``method``."""
    settings = runtime.settings

    @route(
        path,
        name=runtime.route_name(name),
        http_method=[method],
        status_code=200,
        summary="Ask to delete the account",
        description="Sends a code to the account's own number, under the same limits as a "
        "login, and answers as a login does; `next_page` confirms the deletion. With the "
        "cookie alone it must come from this site (see logout).",
        security=SECURITY,
        guards=[not_cross_site],
        responses=error_responses(*START_ERRORS),
        operation_id=links.operation_id(runtime.name, name),
        # Linked on the DELETE form only: the fuzzer's bounded stateful walk
        # then covers every link the document has (tests/fuzz).
        operation_class=links.after_login(
            runtime.name,
            codes_exposed=settings.policy.expose_codes,
            target=CONFIRM,
            param="deletion",
            same_session=True,
        )
        if method == "DELETE"
        else Operation,
    )
    async def start_deletion(request: AnyRequest) -> LoginOut:
        service = runtime.service
        user_id = await service.authenticate(session_token(request))
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        asked = await service.request_deletion(user_id, ip, language(request))
        return step_answer(request, runtime, asked, CONFIRM, "deletion")

    return start_deletion


def account_routes(runtime: Runtime) -> list[HTTPRouteHandler]:
    settings = runtime.settings

    @post(
        "/profile/delete/{deletion:str}/",
        name=runtime.route_name(CONFIRM),
        status_code=200,
        summary="Confirm deleting the account",
        description="The code of the first step deletes the account: the phone is erased, "
        "every session ends (the cookie is cleared), the referral counts stay.",
        security=SECURITY,
        guards=[json_only],
        responses=error_responses(
            *BODY_ERRORS,
            "not_authenticated",
            "code_invalid",
            "challenge_expired",
            "too_many_attempts",
            "service_unavailable",
        ),
        operation_id=links.operation_ids(runtime.name),
    )
    async def confirm_deletion(
        request: AnyRequest, deletion: Token, data: JSONBody[VerifyIn]
    ) -> Response[DeletedOut]:
        service = runtime.service
        user_id = await service.authenticate(session_token(request))
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        await service.confirm_deletion(user_id, deletion, data.confirm_code, ip)
        return Response(DeletedOut(), cookies=[cleared_cookie(settings.cookie_secure)])

    @get(
        "/profile/export/",
        name=runtime.route_name("export_data"),
        summary="Export one's data",
        description="Everything the service holds about the caller, as JSON: the account, "
        "who referred them and whom they referred, their sessions (networks masked to /24 "
        "or /48), the logins still kept, and consents (none are collected).",
        security=SECURITY,
        responses=error_responses("not_authenticated", "service_unavailable"),
        operation_id=links.operation_ids(runtime.name),
    )
    async def export_data(request: AnyRequest) -> ExportOut:
        service = runtime.service
        token = session_token(request)
        user_id = await service.authenticate(token)
        return ExportOut.of(await service.export_data(user_id, token))

    @post(
        "/profile/phone/",
        name=runtime.route_name("request_phone_change"),
        status_code=200,
        summary="Ask to change the phone number",
        description="Sends a code to the new number under the same limits as a login and "
        "answers as a login does, whether or not the number is someone's (the confirmation "
        "tells); `next_page` confirms the change. A session older than "
        "`REFERRALS_STEP_UP_AGE` must sign in again first (403 `step_up_required`).",
        security=SECURITY,
        guards=[json_only],
        responses=error_responses(
            *BODY_ERRORS,
            "not_authenticated",
            "step_up_required",
            "rate_limited",
            "too_many_attempts",
            "service_unavailable",
        ),
        operation_id=links.operation_ids(runtime.name),
    )
    async def request_phone_change(request: AnyRequest, data: JSONBody[LoginIn]) -> LoginOut:
        service = runtime.service
        token = session_token(request)
        user_id = await service.authenticate(token)
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        asked = await service.request_phone_change(
            user_id, token, data.phone, ip, language(request)
        )
        return step_answer(request, runtime, asked, CHANGE, "change")

    @post(
        "/profile/phone/{change:str}/",
        name=runtime.route_name(CHANGE),
        status_code=200,
        summary="Confirm the new phone number",
        description="The new number's code moves the account to it: the id, invite code, "
        "referrer and referrals stay; every other session ends, this one stays. 409 "
        "`phone_taken` if the number belongs to another account.",
        security=SECURITY,
        guards=[json_only],
        responses=error_responses(
            *BODY_ERRORS,
            "not_authenticated",
            "code_invalid",
            "challenge_expired",
            "phone_taken",
            "too_many_attempts",
            "service_unavailable",
        ),
        operation_id=links.operation_ids(runtime.name),
    )
    async def confirm_phone_change(
        request: AnyRequest, change: Token, data: JSONBody[VerifyIn]
    ) -> ProfileOut:
        service = runtime.service
        token = session_token(request)
        user_id = await service.authenticate(token)
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        moved = await service.confirm_phone_change(user_id, token, change, data.confirm_code, ip)
        return ProfileOut.of(moved)

    start = deletion_route(runtime, "/profile/delete/", "request_deletion", "POST")
    return [start, confirm_deletion, export_data, request_phone_change, confirm_phone_change]
