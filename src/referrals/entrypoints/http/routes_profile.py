"""The signed-in user's profile: /api/profile/."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import JSONBody, Parameter

from referrals.application.policy import Policy
from referrals.entrypoints.http.deps import UseCasesDep, UserId, json_only
from referrals.entrypoints.http.problems import error_responses
from referrals.entrypoints.http.schemas import ApplyReferralIn, ProfileOut
from referrals.entrypoints.http.session import session_token

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}, {"SessionCookie": []}]
MAX_PAGE = Policy().max_page_size


async def current_user_id(request: Request[Any, Any, Any], use_cases: UseCasesDep) -> int:
    """The signed-in user's id; ``NotAuthenticated`` (401) otherwise."""
    return await use_cases.authenticate(session_token(request))


@get(
    "/api/profile/",
    tags=["profile"],
    summary="Read the profile",
    description="The user, the code they applied, their own invite code, and one page "
    "of the phones that applied it, oldest first.",
    security=SECURITY,
    responses=error_responses(400, 401, 503),
)
async def read_profile(
    user_id: UserId,
    use_cases: UseCasesDep,
    limit: Annotated[
        int | None,
        Parameter(ge=1, le=MAX_PAGE, description=f"Page size, 1..{MAX_PAGE}; default 100."),
    ] = None,
    cursor: Annotated[
        str | None, Parameter(max_length=64, description="`next_cursor` of the previous page.")
    ] = None,
) -> ProfileOut:
    return ProfileOut.of(await use_cases.get_profile(user_id, cursor=cursor, limit=limit))


@post(
    "/api/profile/",
    status_code=200,
    tags=["profile"],
    summary="Apply someone's invite code",
    description="Once per user; never one's own code, never one that closes a cycle.",
    security=SECURITY,
    guards=[json_only],
    responses=error_responses(400, 401, 404, 409, 413, 415, 429, 503),
)
async def apply_referral(
    user_id: UserId, data: JSONBody[ApplyReferralIn], use_cases: UseCasesDep
) -> ProfileOut:
    return ProfileOut.of(await use_cases.apply_referral(user_id, data.used_referral_code))
