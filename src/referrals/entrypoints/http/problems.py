"""RFC 9457 problem details: the answers of the error catalogue, and how OpenAPI shows them.

Every ``title`` and ``detail`` (and each field error's ``message``) is in the
language the request's ``Accept-Language`` asks for (:mod:`referrals.i18n`:
English by default, or Russian), told in ``Content-Language``; the ``code``
is the same in every language.
"""

from __future__ import annotations

import logging
import math
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
from referrals.entrypoints.http.metrics import count_unavailable
from referrals.entrypoints.http.texts import (
    INCOMPLETE_BODY,
    INVALID_FIELDS,
    INVALID_VALUE,
    MISSING_FIELD,
    NOT_AN_OBJECT,
    NOT_JSON,
    NOT_JSON_MEDIA,
    UNAVAILABLE,
    UNEXPECTED,
    Text,
    http_detail,
    title,
    validation_message,
)
from referrals.i18n import negotiate

log = logging.getLogger("referrals.http")

PROBLEM_JSON = "application/problem+json"
AnyRequest = Request[Any, Any, Any]


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


def language(request: AnyRequest) -> str:
    """The request's language by its ``Accept-Language`` (see :func:`referrals.i18n.negotiate`)."""
    return negotiate(request.headers.get("accept-language"))


def problem(
    request: AnyRequest,
    status: int,
    code: str,
    detail: Text,
    *,
    headers: dict[str, str] | None = None,
    errors: list[tuple[str, Text]] | None = None,
    **extra: Any,
) -> Response[Problem]:
    """The problem answer, its texts in the request's language; ``errors`` as
    (field, message) pairs."""
    lang = language(request)
    if errors is not None:
        extra["errors"] = [FieldError(name, message.render(lang)) for name, message in errors]
    body = Problem(
        title=title(status).render(lang),
        status=status,
        detail=detail.render(lang),
        code=code,
        **extra,
    )
    headers = {**(headers or {}), "Content-Language": lang, "Vary": "Accept-Language"}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def on_domain_error(request: AnyRequest, exc: domain.DomainError) -> Response[Problem]:
    kind = kind_of(exc)
    assert kind is not None  # DomainError itself is in the catalogue  # noqa: S101
    if isinstance(exc, domain.InvalidInput):
        errors = [(exc.field, Text.of(exc))]
        return problem(request, kind.status, kind.code, INVALID_FIELDS, errors=errors)
    detail = Text.of(exc)
    if isinstance(exc, domain.CodeInvalid):
        return problem(request, kind.status, kind.code, detail, attempts_left=exc.attempts_left)
    if isinstance(exc, NotAuthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
        return problem(request, kind.status, kind.code, detail, headers=headers)
    if isinstance(exc, RateLimited):
        headers = retry_after(exc.retry_after)
        limit = exc.limit or UNSET
        return problem(request, kind.status, kind.code, detail, headers=headers, limit=limit)
    return problem(request, kind.status, kind.code, detail)


def on_unavailable(request: AnyRequest, exc: ServiceUnavailable) -> Response[Problem]:
    log.warning("answering 503: %s", exc)
    count_unavailable(request, exc)
    headers = retry_after(exc.retry_after)
    return problem(request, 503, "service_unavailable", UNAVAILABLE, headers=headers)


def _field_error(item: object) -> tuple[str, Text]:
    if not isinstance(item, dict):
        return ("body", validation_message(str(item)))
    key, message = str(item.get("key") or "body"), str(item.get("message") or "")
    text = validation_message(message)
    if missing := MISSING_FIELD.search(message):
        return (missing.group(1), text)
    if key == "data":  # Litestar's name for the whole body
        return ("body", NOT_AN_OBJECT)
    return (key, text)


def _not_json(request: AnyRequest) -> Response[Problem]:
    return problem(request, 400, "validation_error", NOT_JSON, errors=[("body", NOT_JSON)])


DISCONNECTED = "client disconnected prematurely"
"""Litestar's detail when the body ended early (the client left, or a bad chunk)."""


def _http_kind(status: int) -> ErrorKind:
    """The catalogue's entry for a status Litestar itself answers (404, 405, 413…);
    any other status is the catalogue's own refusal (4xx) or fault (5xx)."""
    same_status = kinds_with_status(status)
    litestar_own = [k for k in same_status if issubclass(k.exception, HTTPException)]
    first = (litestar_own or same_status)[:1]
    if first:
        return first[0]
    return kind_named("internal_error" if status >= 500 else "request_refused")


def on_http_exception(request: AnyRequest, exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [_field_error(item) for item in extra] or [("body", INVALID_VALUE)]
        return problem(
            request, 400, "validation_error", INVALID_FIELDS, headers=headers, errors=errors
        )
    if status == 400:  # Litestar's decoding errors: the body is not JSON
        return _not_json(request)
    if exc.detail == DISCONNECTED:  # the client's fault, never a 5xx
        headers["Connection"] = "close"
        return problem(request, 400, "request_incomplete", INCOMPLETE_BODY, headers=headers)
    kind = _http_kind(status)
    detail = http_detail(kind.status, str(exc.detail or "") if kind.status == status else "")
    return problem(request, kind.status, kind.code, detail, headers=headers)


def on_unexpected(request: AnyRequest, exc: Exception) -> Response[Problem]:
    if isinstance(exc, RecursionError | UnicodeDecodeError):
        # The JSON decoder gave up on absurd nesting or bytes that are not UTF-8.
        return _not_json(request)
    if isinstance(exc, OSError | TimeoutError):
        return on_unavailable(request, ServiceUnavailable(f"a dependency ({type(exc).__name__})"))
    log.exception("unexpected error", exc_info=exc)
    return problem(request, 500, "internal_error", UNEXPECTED)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    domain.DomainError: on_domain_error,
    ServiceUnavailable: on_unavailable,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
"""Every error a route of ours can raise, answered as problem details."""

_EXAMPLE_DETAIL = {
    "validation_error": INVALID_FIELDS.template,
    "unsupported_media_type": NOT_JSON_MEDIA,
    "service_unavailable": UNAVAILABLE.template,
}


def _example(kind: ErrorKind) -> dict[str, Any]:
    message = getattr(kind.exception, "message", None)
    detail = _EXAMPLE_DETAIL.get(kind.code) or message or http_detail(kind.status, "").template
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
