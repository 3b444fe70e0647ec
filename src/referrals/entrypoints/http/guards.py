"""The guards our routes share: refusals made before a route runs.

Async on purpose: Litestar runs a sync guard in a worker thread, a thread
hop per request for a few header reads.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler

from referrals.entrypoints.http.session import SESSION_COOKIE

AnyConnection = ASGIConnection[Any, Any, Any, Any]


class UnsupportedMediaType(HTTPException):
    """``unsupported_media_type`` in the catalogue (:mod:`referrals.problems`)."""

    status_code = 415


class CrossSiteRequest(HTTPException):
    """``cross_site_request`` in the catalogue (:mod:`referrals.problems`)."""

    status_code = 403


OWN_FETCHES = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of a request a page of ours (or the person, typing
the address) made; browsers set this header and no page can."""


def _is_json(connection: AnyConnection) -> bool:
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def json_only(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Refuse bodies not declared as JSON (415): "JSON in", and no form posts
    from other sites slipping past CORS as ``text/plain``."""
    if not _is_json(connection):
        raise UnsupportedMediaType()


async def not_cross_site(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Refuse (403) a request that the session cookie alone authenticates and
    that another site may have made: a link or form of a foreign page carries
    the cookie (``SameSite=Lax`` lets top-level GETs through). Taken:

    - an ``Authorization`` header (no foreign page can send one without CORS);
    - ``Sec-Fetch-Site: same-origin`` or ``none`` (our page, or the address bar);
    - a POST declared ``application/json``, as every other cookie POST of ours
      must be (no foreign page can send that type without CORS).

    Without the cookie there is nothing to protect.
    """
    headers = connection.headers
    if "authorization" in headers or SESSION_COOKIE not in connection.cookies:
        return
    if headers.get("sec-fetch-site", "").strip().lower() in OWN_FETCHES:
        return
    if isinstance(connection, Request) and connection.method == "POST" and _is_json(connection):
        return
    raise CrossSiteRequest()
