"""The signed-in user's profile: ``profile/`` under the mount path."""

# No `from __future__ import annotations`: Litestar reads these handlers' annotations
# at start-up, and some refer to values local to the builder function.

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, Parameter

from referrals.application.profile import CURSOR_MAX_LENGTH, CURSOR_PATTERN
from referrals.entrypoints.http import links
from referrals.entrypoints.http.client_address import client_address
from referrals.entrypoints.http.device import DeviceHeader, device_of
from referrals.entrypoints.http.guards import json_only
from referrals.entrypoints.http.handlers import error_responses
from referrals.entrypoints.http.options import options_route
from referrals.entrypoints.http.routes_account import deletion_route
from referrals.entrypoints.http.runtime import SECURITY, Runtime
from referrals.entrypoints.http.schemas import ApplyReferralIn, ProfileOut
from referrals.entrypoints.http.session import session_token


def profile_routes(runtime: Runtime) -> list[HTTPRouteHandler]:
    max_page = runtime.settings.policy.max_page_size
    default_page = runtime.settings.policy.page_size
    operation_ids = links.operation_ids(runtime.name)

    @get(
        "/profile/",
        name=runtime.route_name("profile"),
        summary="Read the profile",
        description="The user, the code they applied, their own invite code, and one page "
        "of the phones that applied it, oldest first.",
        security=SECURITY,
        responses=error_responses("validation_error", "not_authenticated", "service_unavailable"),
        operation_id=operation_ids,
    )
    async def read_profile(
        request: Request[Any, Any, Any],
        limit: Annotated[
            int | None,
            Parameter(
                ge=1, le=max_page, description=f"Page size, 1..{max_page}; default {default_page}."
            ),
        ] = None,
        cursor: Annotated[
            str | None,
            Parameter(
                max_length=CURSOR_MAX_LENGTH,
                schema_extra={"pattern": f"^(?:{CURSOR_PATTERN})?$"},
                description="`next_cursor` of the previous page, as it was given"
                " (empty: the first page).",
            ),
        ] = None,
    ) -> ProfileOut:
        service = runtime.service
        user_id = await service.authenticate(session_token(request))
        return ProfileOut.of(await service.get_profile(user_id, cursor=cursor, limit=limit))

    @post(
        "/profile/",
        name=runtime.route_name("apply_referral"),
        status_code=200,
        summary="Apply someone's invite code",
        description="Once per user; never one's own code, never one that closes a cycle. "
        "A self-referral signal (the owner logged in from the same network or device, or a "
        "burst of this code from one network) holds the referral for review "
        "(`used_referral_status`: `pending_review`) or refuses it (409 `referral_refused`), "
        "by `REFERRALS_REFERRAL_POLICY`. A mobile client may name its device in `X-Device-Id` "
        "(16 to 64 of `A-Za-z0-9_-`; anything else is ignored).",
        security=SECURITY,
        guards=[json_only],
        responses=error_responses(
            "validation_error",
            "not_authenticated",
            "referral_code_not_found",
            "referral_already_applied",
            "own_referral_code",
            "referral_cycle",
            "referral_refused",
            "request_incomplete",
            "request_timeout",
            "payload_too_large",
            "unsupported_media_type",
            "header_too_large",
            "too_many_attempts",
            "service_unavailable",
        ),
        operation_id=operation_ids,
    )
    async def apply_referral(
        request: Request[Any, Any, Any],
        data: JSONBody[ApplyReferralIn],
        x_device_id: DeviceHeader = None,  # read by device_of; declared for OpenAPI
    ) -> ProfileOut:
        service = runtime.service
        user_id = await service.authenticate(session_token(request))
        settings = runtime.settings
        ip = client_address(request, settings.trusted_proxies, settings.forwarded_header)
        profile = await service.apply_referral(
            user_id, data.used_referral_code, client_ip=ip, device_id=device_of(request)
        )
        return ProfileOut.of(profile)

    delete_profile = deletion_route(runtime, "/profile/", "delete_profile", "DELETE")
    handlers = (read_profile, apply_referral, delete_profile)
    profile_options = options_route("/profile/", runtime.route_name("profile_options"), *handlers)
    return [profile_options, *handlers]  # first, or Litestar adds its own
