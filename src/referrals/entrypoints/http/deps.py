"""Guards our routes share."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from referrals.entrypoints.http.errors import UnsupportedMediaType
from referrals.entrypoints.http.texts import NOT_JSON_MEDIA


def json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse bodies not declared as JSON (415): "JSON in", and no form posts
    from other sites slipping past CORS as ``text/plain``."""
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(detail=NOT_JSON_MEDIA)
