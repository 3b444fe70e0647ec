"""Who is calling: the session token, from the Bearer header or the cookie."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

SESSION_COOKIE = "referrals_session"


def session_token(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The ``Authorization: Bearer`` token, else the session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.cookies.get(SESSION_COOKIE) or None


def session_cookie(token: str, max_age: int, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def cleared_cookie(secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        max_age=0,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
