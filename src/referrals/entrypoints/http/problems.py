"""RFC 9457 problem details: the answers of the error catalogue, and how OpenAPI shows them."""

from __future__ import annotations

import logging
import math
import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.types import ExceptionHandlersMap
from msgspec import UNSET, UnsetType

from referrals.application.errors import NotAuthenticated, RateLimited, ServiceUnavailable
from referrals.domain import errors as domain
from referrals.entrypoints.http.errors import (
    CATALOGUE,
    ErrorKind,
    kind_named,
    kind_of,
    kinds_with_status,
)

log = logging.getLogger("referrals.http")

PROBLEM_JSON = "application/problem+json"
NOT_JSON = "The body is not valid JSON."
INVALID_FIELDS = "The request has invalid fields."


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An error answer (RFC 9457). ``code`` is stable and machine-readable."""

    title: str
    status: int
    detail: str
    code: str
    type: str = "about:blank"
    errors: list[FieldError] | UnsetType = UNSET
    """Validation errors only: one entry per bad field."""
    attempts_left: int | UnsetType = UNSET
    """``code_invalid`` only: wrong codes left before the login burns."""
    limit: str | UnsetType = UNSET
    """429 only: the stable name of the limit that refused (``phone_failure``…)."""


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Problem]:
    body = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, code=code, **extra
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def on_domain_error(_: Request[Any, Any, Any], exc: domain.DomainError) -> Response[Problem]:
    kind = kind_of(exc)
    assert kind is not None  # DomainError itself is in the catalogue  # noqa: S101
    if isinstance(exc, domain.InvalidInput):
        errors = [FieldError(exc.field, exc.detail)]
        return problem(kind.status, kind.code, INVALID_FIELDS, errors=errors)
    if isinstance(exc, domain.CodeInvalid):
        return problem(kind.status, kind.code, exc.detail, attempts_left=exc.attempts_left)
    if isinstance(exc, NotAuthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
        return problem(kind.status, kind.code, exc.detail, headers=headers)
    if isinstance(exc, RateLimited):
        headers = retry_after(exc.retry_after)
        limit = exc.limit or UNSET
        return problem(kind.status, kind.code, exc.detail, headers=headers, limit=limit)
    return problem(kind.status, kind.code, exc.detail)


def on_unavailable(_: Request[Any, Any, Any], exc: ServiceUnavailable) -> Response[Problem]:
    log.warning("answering 503: %s", exc)
    return problem(
        503,
        "service_unavailable",
        "A service this API needs is unavailable; try again shortly.",
        headers=retry_after(exc.retry_after),
    )


_MISSING = re.compile(r"missing required field `(\w+)`")


def _field_error(item: object) -> FieldError:
    if not isinstance(item, dict):
        return FieldError("body", str(item))
    key, message = str(item.get("key") or "body"), str(item.get("message") or "Invalid value.")
    if missing := _MISSING.search(message):
        return FieldError(missing.group(1), "This field is required.")
    if key == "data":  # Litestar's name for the whole body
        return FieldError("body", "A JSON object is required.")
    return FieldError(key, message)


def _not_json() -> Response[Problem]:
    return problem(400, "validation_error", NOT_JSON, errors=[FieldError("body", NOT_JSON)])


def _http_code(status: int) -> str:
    """The catalogue's code for a status Litestar itself answers (404, 405, 413…)."""
    kinds = [k for k in kinds_with_status(status) if issubclass(k.exception, HTTPException)]
    if kinds:
        return kinds[0].code
    same_status = kinds_with_status(status)
    return same_status[0].code if same_status else f"http_{status}"


def on_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [_field_error(item) for item in extra] or [FieldError("body", str(exc.detail))]
        return problem(400, "validation_error", INVALID_FIELDS, headers=headers, errors=errors)
    if status == 400:  # Litestar's decoding errors: the body is not JSON
        return _not_json()
    detail = str(exc.detail) if exc.detail and exc.detail != HTTPStatus(status).phrase else ""
    code = _http_code(status)
    return problem(status, code, detail or HTTPStatus(status).description, headers=headers)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, RecursionError | UnicodeDecodeError):
        # The JSON decoder gave up on absurd nesting or bytes that are not UTF-8.
        return _not_json()
    if isinstance(exc, OSError | TimeoutError):
        return on_unavailable(request, ServiceUnavailable(f"a dependency ({type(exc).__name__})"))
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal_error", "An unexpected error occurred; it was logged.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    domain.DomainError: on_domain_error,
    ServiceUnavailable: on_unavailable,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
"""Every error a route of ours can raise, answered as problem details."""

_EXAMPLE_DETAIL = {
    "validation_error": INVALID_FIELDS,
    "payload_too_large": HTTPStatus(413).description,
    "unsupported_media_type": "Send the body as application/json.",
    "service_unavailable": "A service this API needs is unavailable; try again shortly.",
}


def _example(kind: ErrorKind) -> dict[str, Any]:
    message = getattr(kind.exception, "message", None)
    detail = _EXAMPLE_DETAIL.get(kind.code) or message or HTTPStatus(kind.status).description
    return {
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "code": kind.code,
        "type": "about:blank",
    }


def error_responses(*codes: str) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem answers a route really sends, given by
    catalogue code: one entry per status, describing each of its codes."""
    kinds = [kind_named(code) for code in codes]
    specs: dict[int, ResponseSpec] = {}
    for status in sorted({kind.status for kind in kinds}):
        same = [k for k in kinds if k.status == status]
        description = "; ".join(
            f"`{k.code}`: {k.when}" + (f" ({k.extra})" if k.extra else "") for k in same
        )
        specs[status] = ResponseSpec(
            data_container=Problem,
            generate_examples=False,
            description=description[:1].upper() + description[1:] + ".",
            media_type=PROBLEM_JSON,
            examples=[Example(summary=k.code, value=_example(k)) for k in same],
        )
    return specs


__all__ = [
    "CATALOGUE",
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "FieldError",
    "Problem",
    "error_responses",
    "problem",
]
