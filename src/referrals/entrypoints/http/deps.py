"""What handlers receive besides the request: dependencies and the JSON-only guard."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.params import SkipValidation

from referrals.container import UseCases
from referrals.settings import Settings

# Built once at start-up and trusted: Litestar need not re-validate them per request.
UseCasesDep = NamedDependency[SkipValidation[UseCases]]
SettingsDep = NamedDependency[SkipValidation[Settings]]
UserId = NamedDependency[int]
"""The signed-in user's id (``current_user_id``); 401 without a valid session."""


class UnsupportedMediaType(HTTPException):
    status_code = 415


def json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse bodies not declared as JSON (415): "JSON in", and no form posts
    from other sites slipping past CORS as ``text/plain``."""
    media_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(detail="Send the body as application/json.")
