"""A shop's FastAPI app that signs people in with referrals, without Litestar.

Login, verify, profile and apply are the shop's own routes calling the
service; ``/orders`` is guarded by a referrals session (``Authorization:
Bearer …``), and every refusal of the service is answered as RFC 9457
problem details by ``referrals.problems``, in the caller's language. Serve
it with any ASGI server: ``uvicorn --factory shop_api:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from referrals import (
    CodeRequest,
    DomainError,
    Profile,
    Service,
    ServiceUnavailable,
    Settings,
    VerifyCode,
    load_settings,
    open_service,
)
from referrals.i18n import negotiate
from referrals.problems import problem, problem_headers
from referrals.service import Adapters

bearer = HTTPBearer(auto_error=False, description="A referrals session: the access_token")


class LoginIn(BaseModel):
    phone: str


class LoginOut(BaseModel):
    token: str
    expires_in: int
    resend_after: int
    code: str | None = None
    """Only when the settings expose codes (tests and demos)."""


class VerifyIn(BaseModel):
    token: str
    code: str


class ProfileOut(BaseModel):
    id: int
    phone: str
    invite_code: str
    used_invite_code: str | None
    referred_count: int


class VerifyOut(BaseModel):
    access_token: str
    is_new_user: bool
    profile: ProfileOut


class ApplyIn(BaseModel):
    code: str


class OrdersOut(BaseModel):
    user_id: int
    orders: list[str]


def profile_out(profile: Profile) -> ProfileOut:
    return ProfileOut(
        id=profile.id,
        phone=str(profile.phone),
        invite_code=str(profile.invite_code),
        used_invite_code=str(profile.used_invite_code) if profile.used_invite_code else None,
        referred_count=profile.referred_count,
    )


def service_of(request: Request) -> Service:
    service: Service = request.app.state.referrals
    return service


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"  # noqa: S104 (no peer: tests)


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> int:
    """The signed-in user's id; ``NotAuthenticated`` (a 401 problem) without a session."""
    token = credentials.credentials if credentials else None
    return await service_of(request).authenticate(token)


async def answer_problem(request: Request, exc: Exception) -> JSONResponse:
    """Any refusal of the service (or its database down) as problem details."""
    body = problem(exc, negotiate(request.headers.get("accept-language")))
    return JSONResponse(
        body,
        status_code=body["status"],
        headers=problem_headers(exc),
        media_type="application/problem+json",
    )


def create_app(settings: Settings | None = None, *, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_service(settings or load_settings(), adapters=adapters) as service:
            app.state.referrals = service
            yield

    app = FastAPI(title="shop", lifespan=lifespan)
    app.add_exception_handler(DomainError, answer_problem)
    app.add_exception_handler(ServiceUnavailable, answer_problem)

    @app.post("/auth/login")
    async def login(body: LoginIn, request: Request) -> LoginOut:
        language = negotiate(request.headers.get("accept-language"))
        asked = await service_of(request).request_code(
            CodeRequest(phone=body.phone, client_ip=client_ip(request), language=language)
        )
        return LoginOut(
            token=asked.token,
            expires_in=asked.expires_in,
            resend_after=asked.resend_after,
            code=asked.code,
        )

    @app.post("/auth/verify")
    async def verify(body: VerifyIn, request: Request) -> VerifyOut:
        command = VerifyCode(
            body.token, body.code, client_ip(request), request.headers.get("user-agent")
        )
        verified = await service_of(request).verify(command)
        return VerifyOut(
            access_token=verified.session.token,
            is_new_user=verified.is_new_user,
            profile=profile_out(verified.profile),
        )

    @app.get("/me")
    async def me(user_id: Annotated[int, Depends(current_user)], request: Request) -> ProfileOut:
        return profile_out(await service_of(request).get_profile(user_id))

    @app.post("/me/referral")
    async def apply(
        body: ApplyIn, user_id: Annotated[int, Depends(current_user)], request: Request
    ) -> ProfileOut:
        return profile_out(await service_of(request).apply_referral(user_id, body.code))

    @app.get("/orders")
    async def orders(user_id: Annotated[int, Depends(current_user)]) -> OrdersOut:
        return OrdersOut(user_id=user_id, orders=[])

    return app
