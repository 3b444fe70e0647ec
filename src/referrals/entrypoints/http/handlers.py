"""The exception handlers: every error a route of ours raises, answered as
RFC 9457 problem details from the catalogue (:mod:`referrals.problems`),
and how OpenAPI shows those answers.

Every ``title`` and ``detail`` (and each field error's ``message``) is in the
language the request's ``Accept-Language`` asks for (:mod:`referrals.i18n`:
English by default, or Russian), told in ``Content-Language``; the ``code``
is the same in every language.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.types import ExceptionHandlersMap
from msgspec import UNSET, UnsetType

from referrals.application.errors import ServiceUnavailable
from referrals.domain import errors as domain
from referrals.entrypoints.http.metrics import count_unavailable
from referrals.entrypoints.http.texts import (
    INVALID_VALUE,
    MISSING_FIELD,
    NOT_AN_OBJECT,
    NOT_JSON,
    validation_message,
)
from referrals.i18n import negotiate
from referrals.problems import (
    INTERNAL_ERROR,
    INVALID_INPUT,
    PROBLEM_JSON,
    REQUEST_INCOMPLETE,
    REQUEST_REFUSED,
    ErrorKind,
    Text,
    answer,
    kind_named,
    kinds_with_status,
    problem,
    problem_headers,
)

log = logging.getLogger("referrals.http")

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


def respond(
    request: AnyRequest, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[Any]:
    """A problem (as :mod:`referrals.problems` makes it) as the answer; its
    texts are in the request's language."""
    headers = {**(headers or {}), "Content-Language": language(request), "Vary": "Accept-Language"}
    return Response(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def on_domain_error(request: AnyRequest, exc: domain.DomainError) -> Response[Any]:
    return respond(request, problem(exc, language(request)), problem_headers(exc))


def on_unavailable(request: AnyRequest, exc: ServiceUnavailable) -> Response[Any]:
    log.warning("answering 503: %s", exc)
    count_unavailable(request, exc)
    return respond(request, problem(exc, language(request)), problem_headers(exc))


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


def _invalid(
    request: AnyRequest, errors: list[tuple[str, Text]], headers: dict[str, str] | None = None
) -> Response[Any]:
    body = answer(INVALID_INPUT, INVALID_INPUT.detail, language(request), errors=errors)
    return respond(request, body, headers)


def _not_json(request: AnyRequest) -> Response[Any]:
    body = answer(INVALID_INPUT, NOT_JSON, language(request), errors=[("body", NOT_JSON)])
    return respond(request, body)


DISCONNECTED = "client disconnected prematurely"
"""Litestar's detail when the body ended early (the client left, or a bad chunk)."""


def _http_kind(status: int) -> ErrorKind:
    """The catalogue's entry for a status Litestar itself answers (404, 405,
    413…): one no exception of ours is answered with, else the first; any
    other status is the catalogue's own refusal (4xx) or fault (5xx)."""
    same_status = kinds_with_status(status)
    litestar_own = [kind for kind in same_status if kind.refusal is None]
    first = (litestar_own or same_status)[:1]
    if first:
        return first[0]
    return INTERNAL_ERROR if status >= 500 else REQUEST_REFUSED


def on_http_exception(request: AnyRequest, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        return _invalid(
            request, [_field_error(item) for item in extra] or [("body", INVALID_VALUE)], headers
        )
    if status == 400:  # Litestar's decoding errors: the body is not JSON
        return _not_json(request)
    if exc.detail == DISCONNECTED:  # the client's fault, never a 5xx
        headers["Connection"] = "close"
        body = answer(REQUEST_INCOMPLETE, REQUEST_INCOMPLETE.detail, language(request))
        return respond(request, body, headers)
    kind = _http_kind(status)
    own = str(exc.detail or "")  # ours (translated if we have it), or Litestar's phrase
    ours = own and own != HTTPStatus(status).phrase and kind.status == status
    detail = Text(own) if ours else kind.detail
    return respond(request, answer(kind, detail, language(request)), headers)


def on_unexpected(request: AnyRequest, exc: Exception) -> Response[Any]:
    if isinstance(exc, RecursionError | UnicodeDecodeError):
        # The JSON decoder gave up on absurd nesting or bytes that are not UTF-8.
        return _not_json(request)
    if isinstance(exc, OSError | TimeoutError):
        return on_unavailable(request, ServiceUnavailable(f"a dependency ({type(exc).__name__})"))
    log.exception("unexpected error", exc_info=exc)
    return respond(request, problem(exc, language(request)))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    domain.DomainError: on_domain_error,
    ServiceUnavailable: on_unavailable,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
"""Every error a route of ours can raise, answered as problem details."""


def _example(kind: ErrorKind) -> dict[str, Any]:
    return {
        "title": kind.title,
        "status": kind.status,
        "detail": kind.detail.template,
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
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "FieldError",
    "Problem",
    "error_responses",
    "language",
]
