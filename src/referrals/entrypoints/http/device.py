"""Which device is calling, for the ``same_device`` signal of referral
integrity (docs/rules.md): the ``X-Device-Id`` header a mobile client may
send, else the first-party cookie the page at ``/`` sets.

Both are checked strictly (:func:`~referrals.domain.integrity.device_id`):
a malformed one is ignored, as if none was sent, never an error.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.params import HeaderParameter

from referrals.domain.integrity import device_id

DEVICE_COOKIE = "referrals_device"
DEVICE_HEADER = "x-device-id"
DEVICE_COOKIE_AGE = 400 * 86_400
"""The longest a browser keeps a cookie (Chrome caps it at 400 days)."""

DeviceHeader = Annotated[
    str | None,
    HeaderParameter(
        name="X-Device-Id",
        required=False,
        description="A mobile client's own device id, for the referral-integrity "
        "`same_device` signal: 16 to 64 of `A-Za-z0-9_-`; anything else is ignored "
        "(never refused). Browsers get the `referrals_device` cookie from the page instead.",
    ),
]
"""The ``X-Device-Id`` header as a route declares it (so OpenAPI shows it);
no schema constraint, so a malformed value is ignored, not refused."""


def device_of(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The caller's well-formed device id: the header's, else the cookie's."""
    return device_id(request.headers.get(DEVICE_HEADER)) or device_id(
        request.cookies.get(DEVICE_COOKIE)
    )


def new_device_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def device_cookie(value: str, secure: bool) -> Cookie:
    """The long-lived, HttpOnly, SameSite=Lax cookie that names a browser."""
    return Cookie(
        key=DEVICE_COOKIE,
        value=value,
        max_age=DEVICE_COOKIE_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def ensure_device(
    request: ASGIConnection[Any, Any, Any, Any], secure: bool
) -> tuple[str, list[Cookie]]:
    """The caller's device id, and the cookie to set when it had none (a
    new id); a client that sends the header is left without a cookie."""
    known = device_of(request)
    if known is not None:
        return known, []
    fresh = new_device_id()
    return fresh, [device_cookie(fresh, secure)]
