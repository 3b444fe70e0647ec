"""The words of problem answers, translatable: titles by status, the details
of refusals Litestar makes itself, and validation messages.

msgspec and Litestar describe a bad field in their own English ("Expected
`str`, got `int`"); :func:`validation_message` maps each such message to a
sentence of ours (:class:`Text`), so it can be translated like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from referrals.application.errors import NotAuthenticated, RateLimited
from referrals.domain.errors import DomainError
from referrals.i18n import N_, translate


@dataclass(frozen=True, slots=True)
class Text:
    """A sentence to translate when the reader's language is known: its
    English msgid and its placeholders' values (a :class:`Text` value is
    translated too)."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, error: DomainError) -> Text:
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
"""The ``title`` of each status the API answers (the HTTP reason phrase)."""


def title(status: int) -> Text:
    return Text(TITLES.get(status) or HTTPStatus(status).phrase)


INVALID_FIELDS = Text(N_("The request has invalid fields."))
NOT_JSON = Text(N_("The body is not valid JSON."))
NOT_AN_OBJECT = Text(N_("A JSON object is required."))
REQUIRED = Text(N_("This field is required."))
INVALID_VALUE = Text(N_("Invalid value."))
UNAVAILABLE = Text(N_("A service this API needs is unavailable; try again shortly."))
UNEXPECTED = Text(N_("An unexpected error occurred; it was logged."))
NOT_JSON_MEDIA = N_("Send the body as application/json.")
CROSS_SITE = N_("Log out from this site's own page, or send the session as Authorization: Bearer.")
NO_SUCH_FILE = N_("No such file.")
INCOMPLETE_BODY = Text(N_("The request body ended before it was complete."))

HTTP_DETAILS: Mapping[int, str] = {
    401: NotAuthenticated.message,
    403: N_("This request is not allowed."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not take that method."),
    408: N_("The request body took too long to arrive."),
    413: N_("The request body is too large."),
    415: NOT_JSON_MEDIA,
    429: RateLimited.message,
    431: N_("The request headers are too large."),
    500: UNEXPECTED.template,
    503: UNAVAILABLE.template,
}
"""The ``detail`` of refusals that carry no sentence of ours (Litestar's own 404, 405, 413…)."""


def http_detail(status: int, detail: str) -> Text:
    """A refusal's own detail (translated if it is one of ours), or the status's."""
    if detail and detail != HTTPStatus(status).phrase:
        return Text(detail)
    return Text(HTTP_DETAILS.get(status) or HTTPStatus(status).description)


TYPE_NAMES: Mapping[str, str] = {
    "str": N_("text"),
    "int": N_("a whole number"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "object": N_("a JSON object"),
    "array": N_("a list"),
    "null": N_("null"),
}


def _type(name: str) -> Text | str:
    """The first type of ``int | null`` in words (``null`` only when it is all)."""
    names = [part.strip() for part in name.split("|")]
    first = next((part for part in names if part != "null"), names[0])
    return Text(TYPE_NAMES[first]) if first in TYPE_NAMES else first


MISSING_FIELD = re.compile(r"missing required field `(?P<field>[^`]+)`")
"""msgspec's message for a missing field; ``field`` names it."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (MISSING_FIELD, REQUIRED.template),
    (
        re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<actual>[^`]+)`"),
        N_("Wrong type: expected {expected}, got {actual}."),
    ),
    (
        re.compile(r"^Expected `[^`]+` of length <= (?P<count>\d+)"),
        N_("Too long: at most {count} characters."),
    ),
    (
        re.compile(r"^Expected `[^`]+` of length >= (?P<count>\d+)"),
        N_("Too short: at least {count} characters."),
    ),
    (re.compile(r"^Expected `[^`]+` <= (?P<limit>-?[\d.]+)$"), N_("Must be at most {limit}.")),
    (re.compile(r"^Expected `[^`]+` >= (?P<limit>-?[\d.]+)$"), N_("Must be at least {limit}.")),
    (re.compile(r"^Expected `[^`]+` < (?P<limit>-?[\d.]+)$"), N_("Must be below {limit}.")),
    (re.compile(r"^Expected `[^`]+` > (?P<limit>-?[\d.]+)$"), N_("Must be above {limit}.")),
)


def validation_message(message: str) -> Text:
    """Our sentence for a msgspec or Litestar validation message; an unknown
    one becomes "Invalid value." (its English would not translate)."""
    for pattern, template in _PATTERNS:
        if found := pattern.search(message):
            params = found.groupdict()
            params.pop("field", None)
            values: dict[str, object] = {
                key: _type(value) if key in {"expected", "actual"} else value
                for key, value in params.items()
            }
            return Text(template, values)
    return INVALID_VALUE
