"""RFC 9457 problem details: every error the API sends, and how OpenAPI shows it."""

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

log = logging.getLogger("referrals.http")

PROBLEM_JSON = "application/problem+json"


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


STATUS: dict[type[Exception], int] = {
    domain.InvalidInput: 400,
    domain.CodeInvalid: 400,
    domain.ChallengeExpired: 400,
    NotAuthenticated: 401,
    domain.ReferralCodeNotFound: 404,
    domain.ReferralAlreadyApplied: 409,
    domain.OwnReferralCode: 409,
    domain.ReferralCycle: 409,
    RateLimited: 429,
}

CODE_BY_STATUS = {
    400: "validation_error",
    401: "not_authenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


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


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def on_domain_error(_: Request[Any, Any, Any], exc: domain.DomainError) -> Response[Problem]:
    status = next(STATUS[k] for k in type(exc).__mro__ if k in STATUS)
    if isinstance(exc, domain.InvalidInput):
        return problem(
            status,
            exc.code,
            "The request has invalid fields.",
            errors=[FieldError(exc.field, exc.detail)],
        )
    if isinstance(exc, domain.CodeInvalid):
        return problem(status, exc.code, exc.detail, attempts_left=exc.attempts_left)
    if isinstance(exc, NotAuthenticated):
        return problem(status, exc.code, exc.detail, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, RateLimited):
        return problem(status, exc.code, exc.detail, headers=_retry_after(exc.retry_after))
    return problem(status, exc.code, exc.detail)


def on_unavailable(_: Request[Any, Any, Any], exc: ServiceUnavailable) -> Response[Problem]:
    log.warning("answering 503: %s", exc)
    return problem(
        503,
        "service_unavailable",
        "A service this API needs is unavailable; try again shortly.",
        headers=_retry_after(exc.retry_after),
    )


_MISSING = re.compile(r"missing required field `(\w+)`")
NOT_JSON = "The body is not valid JSON."


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


def on_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    code = CODE_BY_STATUS.get(status, f"http_{status}")
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [_field_error(item) for item in extra] or [FieldError("body", str(exc.detail))]
        return problem(400, code, "The request has invalid fields.", headers=headers, errors=errors)
    if status == 400:  # Litestar's decoding errors: the body is not JSON
        return _not_json()
    detail = str(exc.detail) if exc.detail and exc.detail != HTTPStatus(status).phrase else ""
    return problem(status, code, detail or HTTPStatus(status).description, headers=headers)


def on_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, RecursionError | UnicodeDecodeError):
        # The JSON decoder gave up on absurd nesting or bytes that are not UTF-8.
        return _not_json()
    if isinstance(exc, OSError | TimeoutError):
        return on_unavailable(_, ServiceUnavailable(f"a dependency ({type(exc).__name__})"))
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal_error", "An unexpected error occurred; it was logged.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    domain.DomainError: on_domain_error,
    ServiceUnavailable: on_unavailable,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}

_DESCRIPTIONS = {
    400: "Invalid input (`validation_error`, with `errors`), or, on verify, a wrong code"
    " (`code_invalid`, with `attempts_left`) or a dead login (`challenge_expired`).",
    401: "No valid session (`not_authenticated`); sent with `WWW-Authenticate: Bearer`.",
    404: "No user has this invite code (`referral_code_not_found`).",
    409: "`referral_already_applied`, `own_referral_code` or `referral_cycle`.",
    413: "The body is over the size limit (`payload_too_large`).",
    415: "The body is not sent as `application/json` (`unsupported_media_type`).",
    429: "A limit was reached (`rate_limited` or `too_many_attempts`); see `Retry-After`.",
    503: "PostgreSQL, Redis or the queue is unreachable (`service_unavailable`);"
    " see `Retry-After`.",
}

_EXAMPLES = {
    400: ("validation_error", "The request has invalid fields."),
    401: ("not_authenticated", NotAuthenticated.message),
    404: ("referral_code_not_found", domain.ReferralCodeNotFound.message),
    409: ("referral_already_applied", domain.ReferralAlreadyApplied.message),
    413: ("payload_too_large", HTTPStatus(413).description),
    415: ("unsupported_media_type", "Send the body as application/json."),
    429: ("rate_limited", RateLimited.message),
    503: ("service_unavailable", "A service this API needs is unavailable; try again shortly."),
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem answers a route really sends."""
    specs: dict[int, ResponseSpec] = {}
    for status in statuses:
        code, detail = _EXAMPLES[status]
        example = {
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "code": code,
            "type": "about:blank",
        }
        specs[status] = ResponseSpec(
            data_container=Problem,
            generate_examples=False,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            examples=[Example(summary=code, value=example)],
        )
    return specs
