"""The catalogue of refusals: for every error an answer can carry, its HTTP
status, its stable ``code``, its title and its translated detail.

It needs no web framework: a host on any of them answers a refusal of the
library as RFC 9457 problem details with one call::

    from referrals.problems import problem, problem_headers

    try:
        profile = await service.apply_referral(user_id, code)
    except Exception as exc:
        body = problem(exc, "ru")  # {"title": …, "status": 409, "detail": …, "code": …}
        return JSONResponse(body, body["status"], problem_headers(exc),
                            media_type="application/problem+json")

The HTTP API (``referrals.entrypoints.http``) answers from the same table,
and docs/rules.md lists it (a test compares the two). The ``code`` of a
refusal is its exception class's own (:mod:`referrals.domain.errors`), so
the events that report it and the answers name it alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from referrals.application import errors as app
from referrals.domain import errors as domain
from referrals.i18n import N_, language_of, translate

PROBLEM_JSON = "application/problem+json"
"""The media type of problem details (RFC 9457)."""


@dataclass(frozen=True, slots=True)
class Text:
    """A sentence to translate when the reader's language is known: its
    English msgid and its placeholders' values (a :class:`Text` value is
    translated too)."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, error: domain.DomainError) -> Text:
        return cls(error.template, error.params)

    def render(self, language: str) -> str:
        values = {
            name: value.render(language) if isinstance(value, Text) else value
            for name, value in self.params.items()
        }
        return translate(self.template, language, **values)


TITLES: Mapping[int, str] = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    408: N_("Request Timeout"),
    409: N_("Conflict"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    429: N_("Too Many Requests"),
    431: N_("Request Header Fields Too Large"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}
"""The ``title`` of each status of the catalogue (the HTTP reason phrase)."""

UNAVAILABLE = Text(N_("A service this API needs is unavailable; try again shortly."))
UNEXPECTED = Text(N_("An unexpected error occurred; it was logged."))


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """One entry of the catalogue."""

    status: int
    code: str
    when: str
    """When it is answered (docs/rules.md and OpenAPI)."""
    detail: Text
    """What the answer says, unless the refusal says more (an invalid input
    names its field, a rule its own sentence)."""
    extra: str = ""
    """Members or headers beyond the standard ones."""
    refusal: type[Exception] | None = None
    """The exception answered with it (and its subclasses that have no entry
    of their own); ``None`` for what only an HTTP server refuses by itself
    (no such path, a body too large…) and for the unexpected error."""

    @property
    def title(self) -> str:
        """In English; answers carry it in the reader's language."""
        return TITLES.get(self.status) or HTTPStatus(self.status).phrase


def _answering(
    refusal: type[domain.DomainError], status: int, when: str, extra: str = ""
) -> ErrorKind:
    return ErrorKind(status, refusal.code, when, Text(refusal.message), extra, refusal)


INVALID_INPUT = _answering(
    domain.InvalidInput,
    400,
    "malformed JSON, missing or wrong fields, an invalid phone, code or cursor",
    "`errors: [{field, message}]`",
)
"""Input that is not what it should be; ``errors`` names each field."""
REQUEST_REFUSED = _answering(domain.DomainError, 400, "any other refusal of the rules")
"""A refusal of the rules with no entry of its own."""
REQUEST_INCOMPLETE = ErrorKind(
    400,
    "request_incomplete",
    "the client went away mid-body, or sent a malformed chunked body",
    Text(N_("The request body ended before it was complete.")),
    "`Connection: close`",
)
"""A body that ended early: the client's fault, never a 5xx."""
INTERNAL_ERROR = ErrorKind(
    500,
    "internal_error",
    "a fault of the server's own (logged); never an answer to bad input",
    UNEXPECTED,
)
"""What any exception outside the catalogue is answered with."""

CATALOGUE: tuple[ErrorKind, ...] = (
    INVALID_INPUT,
    _answering(domain.CodeInvalid, 400, "wrong confirmation code", "`attempts_left`"),
    _answering(
        domain.ChallengeExpired, 400, "unknown, expired, used, superseded or burned login token"
    ),
    REQUEST_REFUSED,
    REQUEST_INCOMPLETE,
    _answering(
        app.NotAuthenticated,
        401,
        "no or bad session on a protected endpoint",
        "`WWW-Authenticate: Bearer`",
    ),
    ErrorKind(
        403,
        "cross_site_request",
        "a logout by the session cookie alone that may come from another site"
        " (send `Authorization: Bearer`, or POST it as `application/json`)",
        Text(
            N_("Log out from this site's own page, or send the session as Authorization: Bearer.")
        ),
    ),
    _answering(
        app.ReceiptRefused,
        403,
        "a delivery receipt whose signature or URL secret does not match or is over"
        " 5 minutes old, or for a channel that takes no receipts; nothing changes",
    ),
    _answering(
        domain.StepUpRequired,
        403,
        "changing the number with a session older than `REFERRALS_STEP_UP_AGE`:"
        " sign in again first",
    ),
    ErrorKind(404, "not_found", "no such path", Text(N_("There is nothing at this address."))),
    _answering(domain.ReferralCodeNotFound, 404, "no user has that invite code"),
    _answering(domain.SessionNotFound, 404, "no live session of the caller's has that id"),
    ErrorKind(
        405,
        "method_not_allowed",
        "the path does not take that method",
        Text(N_("This address does not take that method.")),
    ),
    ErrorKind(
        408,
        "request_timeout",
        "the body took longer than `REFERRALS_BODY_TIMEOUT` in all, or"
        " `REFERRALS_BODY_IDLE_TIMEOUT` between two pieces",
        Text(N_("The request body took too long to arrive.")),
        "`Connection: close`",
    ),
    _answering(domain.ReferralAlreadyApplied, 409, "the user already applied a code"),
    _answering(domain.OwnReferralCode, 409, "the user's own code"),
    _answering(domain.ReferralCycle, 409, "applying it would close a cycle"),
    _answering(
        domain.SuspectedSelfReferral,
        409,
        "a self-referral signal (same device, same network, a burst) the policy refuses",
    ),
    _answering(domain.PhoneTaken, 409, "the new number belongs to another account"),
    _answering(
        domain.ReferralCooldown,
        409,
        "the number belonged to an account deleted within the re-registration cooldown",
    ),
    ErrorKind(
        413,
        "payload_too_large",
        "a body over the size limit",
        Text(N_("The request body is too large.")),
    ),
    ErrorKind(
        415,
        "unsupported_media_type",
        "a body not sent as `application/json` (so no cross-site form can post one)",
        Text(N_("Send the body as application/json.")),
    ),
    _answering(
        app.TooManyAttempts,
        429,
        "guessing limits: wrong codes per phone and per phone and address,"
        " verifications per address, unknown invite codes per user",
        "`Retry-After`; `limit` names the limit",
    ),
    _answering(
        app.RateLimited,
        429,
        "sending limits: resend cooldown, codes per phone, per phone and address,"
        " per address, per IPv6 network, per number block, per country, in all",
        "`Retry-After`; `limit` names the limit",
    ),
    ErrorKind(
        431,
        "header_too_large",
        "a request head (request line and headers) over `REFERRALS_MAX_HEADER_SIZE`",
        Text(N_("The request headers are too large.")),
        "`Connection: close`",
    ),
    INTERNAL_ERROR,
    _answering(
        app.SendingPaused,
        503,
        "the SMS spend cap (`REFERRALS_SPEND_CAP`) is reached: no code is sent until"
        " its window has room",
        "`Retry-After`",
    ),
    ErrorKind(
        503,
        app.ServiceUnavailable.code,
        "the database, Redis or the queue is unreachable",
        UNAVAILABLE,
        "`Retry-After`",
        app.ServiceUnavailable,
    ),
)

_BY_REFUSAL = {kind.refusal: kind for kind in CATALOGUE if kind.refusal is not None}
_BY_CODE = {kind.code: kind for kind in CATALOGUE}


def kind_of(error: BaseException | type[BaseException]) -> ErrorKind | None:
    """The entry of an exception (or of its class): its own class's, else its
    nearest listed base's; ``None`` outside the catalogue."""
    cls = error if isinstance(error, type) else type(error)
    for base in cls.__mro__:
        if (kind := _BY_REFUSAL.get(base)) is not None:
            return kind
    return None


def kind_named(code: str) -> ErrorKind:
    """The entry with this ``code`` (``KeyError`` for a code not in the catalogue)."""
    return _BY_CODE[code]


def kinds_with_status(status: int) -> list[ErrorKind]:
    return [kind for kind in CATALOGUE if kind.status == status]


def answer(
    kind: ErrorKind,
    detail: Text,
    language: str | None = None,
    *,
    errors: Sequence[tuple[str, Text]] | None = None,
    **members: object,
) -> dict[str, Any]:
    """The problem details of ``kind``, its texts in ``language``: ``errors``
    as (field, message) pairs, ``members`` as they are. ``type`` is left out,
    which RFC 9457 reads as ``about:blank``."""
    lang = language_of(language)
    body: dict[str, Any] = {
        "title": translate(kind.title, lang),
        "status": kind.status,
        "detail": detail.render(lang),
        "code": kind.code,
    }
    if errors is not None:
        body["errors"] = [{"field": name, "message": text.render(lang)} for name, text in errors]
    return body | members


def problem(error: BaseException, language: str | None = None) -> dict[str, Any]:
    """The RFC 9457 problem details answering ``error``, in ``language`` (a
    tag such as ``ru`` or ``ru-RU``; English otherwise): any
    :class:`~referrals.domain.errors.DomainError` by the catalogue,
    :class:`~referrals.application.errors.ServiceUnavailable` as 503 and
    anything else as a 500 ``internal_error`` that tells nothing of the error
    (log it yourself). Beyond ``title``, ``status``, ``detail`` and ``code``:
    ``errors`` for invalid input, ``attempts_left`` for a wrong code and
    ``limit`` for a rate limit. :func:`problem_headers` gives the headers."""
    kind = kind_of(error) or INTERNAL_ERROR
    if isinstance(error, domain.InvalidInput):
        return answer(kind, kind.detail, language, errors=[(error.field, Text.of(error))])
    if isinstance(error, domain.CodeInvalid):
        return answer(kind, Text.of(error), language, attempts_left=error.attempts_left)
    if isinstance(error, app.RateLimited) and error.limit:
        return answer(kind, Text.of(error), language, limit=error.limit)
    if isinstance(error, domain.DomainError):
        return answer(kind, Text.of(error), language)
    return answer(kind, kind.detail, language)


def retry_after(seconds: float) -> dict[str, str]:
    """A ``Retry-After`` header: whole seconds, at least one."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def problem_headers(error: BaseException) -> dict[str, str]:
    """The headers an answer to ``error`` carries: ``WWW-Authenticate:
    Bearer`` when a session is needed, ``Retry-After`` when waiting helps."""
    if isinstance(error, app.NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, app.RateLimited | app.SendingPaused | app.ServiceUnavailable):
        return retry_after(error.retry_after)
    return {}


__all__ = [
    "CATALOGUE",
    "INTERNAL_ERROR",
    "INVALID_INPUT",
    "PROBLEM_JSON",
    "REQUEST_INCOMPLETE",
    "REQUEST_REFUSED",
    "ErrorKind",
    "Text",
    "answer",
    "kind_named",
    "kind_of",
    "kinds_with_status",
    "problem",
    "problem_headers",
    "retry_after",
]
