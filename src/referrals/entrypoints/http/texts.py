"""The words of the HTTP API's problem answers beyond the catalogue's
(:mod:`referrals.problems`), translatable: bodies that are not JSON, and
validation messages.

msgspec and Litestar describe a bad field in their own English ("Expected
`str`, got `int`"); :func:`validation_message` maps each such message to a
sentence of ours (:class:`Text`), so it can be translated like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from referrals.i18n import N_
from referrals.problems import Text

NOT_JSON = Text(N_("The body is not valid JSON."))
NOT_AN_OBJECT = Text(N_("A JSON object is required."))
REQUIRED = Text(N_("This field is required."))
INVALID_VALUE = Text(N_("Invalid value."))
NO_SUCH_FILE = N_("No such file.")

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
