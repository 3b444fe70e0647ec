"""The error catalogue: every problem the API answers, in one table.

Each :class:`ErrorKind` ties an exception class to its HTTP status, its
stable machine-readable ``code`` and a description. The exception handlers,
the OpenAPI document and the error table of docs/rules.md all come from (or are
checked against) :data:`CATALOGUE`, so they cannot drift apart. Answers are
RFC 9457 problem details (``application/problem+json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from litestar.exceptions import HTTPException

from referrals.application import errors as app
from referrals.domain import errors as domain
from referrals.entrypoints.http.texts import TITLES


class PayloadTooLarge(HTTPException):
    status_code = 413


class UnsupportedMediaType(HTTPException):
    status_code = 415


class RouteNotFound(HTTPException):
    status_code = 404


class CrossSiteRequest(HTTPException):
    status_code = 403


class MethodNotAllowed(HTTPException):
    status_code = 405


class RequestIncomplete(HTTPException):
    status_code = 400


class RequestTimeout(HTTPException):
    status_code = 408


class HeaderTooLarge(HTTPException):
    status_code = 431


class InternalError(HTTPException):
    status_code = 500


@dataclass(frozen=True, slots=True)
class ErrorKind:
    exception: type[Exception]
    status: int
    code: str
    when: str
    """When it is answered (docs/rules.md and OpenAPI)."""
    extra: str = ""
    """Members or headers beyond the standard ones."""

    @property
    def title(self) -> str:
        """In English; answers carry it in the request's language."""
        return TITLES.get(self.status) or HTTPStatus(self.status).phrase


CATALOGUE: tuple[ErrorKind, ...] = (
    ErrorKind(
        domain.InvalidInput,
        400,
        "validation_error",
        "malformed JSON, missing or wrong fields, an invalid phone, code or cursor",
        "`errors: [{field, message}]`",
    ),
    ErrorKind(
        domain.CodeInvalid, 400, "code_invalid", "wrong confirmation code", "`attempts_left`"
    ),
    ErrorKind(
        domain.ChallengeExpired,
        400,
        "challenge_expired",
        "unknown, expired, used, superseded or burned login token",
    ),
    ErrorKind(domain.DomainError, 400, "request_refused", "any other refusal of the rules"),
    ErrorKind(
        RequestIncomplete,
        400,
        "request_incomplete",
        "the client went away mid-body, or sent a malformed chunked body",
        "`Connection: close`",
    ),
    ErrorKind(
        app.NotAuthenticated,
        401,
        "not_authenticated",
        "no or bad session on a protected endpoint",
        "`WWW-Authenticate: Bearer`",
    ),
    ErrorKind(
        CrossSiteRequest,
        403,
        "cross_site_request",
        "a logout by the session cookie alone that may come from another site"
        " (send `Authorization: Bearer`, or POST it as `application/json`)",
    ),
    ErrorKind(
        app.ReceiptRefused,
        403,
        "receipt_refused",
        "a delivery receipt whose signature or URL secret does not match or is over"
        " 5 minutes old, or for a channel that takes no receipts; nothing changes",
    ),
    ErrorKind(RouteNotFound, 404, "not_found", "no such path"),
    ErrorKind(
        domain.ReferralCodeNotFound, 404, "referral_code_not_found", "no user has that invite code"
    ),
    ErrorKind(
        domain.SessionNotFound,
        404,
        "session_not_found",
        "no live session of the caller's has that id",
    ),
    ErrorKind(MethodNotAllowed, 405, "method_not_allowed", "the path does not take that method"),
    ErrorKind(
        RequestTimeout,
        408,
        "request_timeout",
        "the body took longer than `REFERRALS_BODY_TIMEOUT` in all, or"
        " `REFERRALS_BODY_IDLE_TIMEOUT` between two pieces",
        "`Connection: close`",
    ),
    ErrorKind(
        domain.ReferralAlreadyApplied,
        409,
        "referral_already_applied",
        "the user already applied a code",
    ),
    ErrorKind(domain.OwnReferralCode, 409, "own_referral_code", "the user's own code"),
    ErrorKind(domain.ReferralCycle, 409, "referral_cycle", "applying it would close a cycle"),
    ErrorKind(PayloadTooLarge, 413, "payload_too_large", "a body over the size limit"),
    ErrorKind(
        UnsupportedMediaType,
        415,
        "unsupported_media_type",
        "a body not sent as `application/json` (so no cross-site form can post one)",
    ),
    ErrorKind(
        app.TooManyAttempts,
        429,
        "too_many_attempts",
        "guessing limits: wrong codes per phone and per phone and address,"
        " verifications per address, unknown invite codes per user",
        "`Retry-After`; `limit` names the limit",
    ),
    ErrorKind(
        app.RateLimited,
        429,
        "rate_limited",
        "sending limits: resend cooldown, codes per phone, per phone and address,"
        " per address, per IPv6 network, per number block, per country, in all",
        "`Retry-After`; `limit` names the limit",
    ),
    ErrorKind(
        HeaderTooLarge,
        431,
        "header_too_large",
        "a request head (request line and headers) over `REFERRALS_MAX_HEADER_SIZE`",
        "`Connection: close`",
    ),
    ErrorKind(
        InternalError,
        500,
        "internal_error",
        "a fault of the server's own (logged); never an answer to bad input",
    ),
    ErrorKind(
        app.ServiceUnavailable,
        503,
        "service_unavailable",
        "the database, Redis or the queue is unreachable",
        "`Retry-After`",
    ),
)

_BY_EXCEPTION = {kind.exception: kind for kind in CATALOGUE}


def kind_of(exc: BaseException) -> ErrorKind | None:
    """The entry for ``exc``: its own class's, else its nearest listed base's."""
    for cls in type(exc).__mro__:
        if (kind := _BY_EXCEPTION.get(cls)) is not None:
            return kind
    return None


def kind_named(code: str) -> ErrorKind:
    return next(kind for kind in CATALOGUE if kind.code == code)


def kinds_with_status(status: int) -> list[ErrorKind]:
    return [kind for kind in CATALOGUE if kind.status == status]
