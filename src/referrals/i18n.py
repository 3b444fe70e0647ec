"""The languages of every text a person reads: English (as written) and Russian.

Texts are gettext messages whose msgid is the English sentence, marked in
the code with :func:`~referrals.domain.texts.N_` (or passed to ``_``); the
translations live in ``referrals/locales/<language>/LC_MESSAGES/referrals.po``
and the compiled ``.mo`` next to it, shipped in the wheel and read here
with the standard library's :mod:`gettext`. ``scripts/translations.py``
extracts, updates and compiles them (with Babel, a development tool only).

    >>> negotiate("ru-RU,ru;q=0.9,en;q=0.8")
    'ru'
    >>> translate("Not a valid phone number.", "ru")
    'Неверный номер телефона.'
"""

from __future__ import annotations

import functools
import gettext
from importlib import resources

from referrals.domain.texts import N_

DOMAIN = "referrals"
"""The gettext domain: ``referrals.mo``."""
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = (DEFAULT_LANGUAGE, "ru")
"""Every language a text is available in; the first is the default (the
language of the code itself)."""


def language_of(tag: str | None) -> str:
    """The supported language of a tag (``ru-RU``, ``RU``, ``ru_RU`` -> ``ru``),
    else the default one."""
    primary = (tag or "").replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def _ranges(header: str) -> list[tuple[float, int, str]]:
    """RFC 9110 §12.5.4 language ranges with their weights: (-q, position, range)."""
    ranges = []
    for position, item in enumerate(header.split(",")):
        name, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name and 0 < weight <= 1:
            ranges.append((-weight, position, name.lower()))
    return sorted(ranges)


def negotiate(header: str | None) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header: the
    highest ``q`` first (ties in the header's order), ``q=0`` never, ``*``
    or nothing known: :data:`DEFAULT_LANGUAGE`. Malformed parts are skipped."""
    for _, _, name in _ranges(header or "")[:32]:
        if name == "*":
            return DEFAULT_LANGUAGE
        primary = name.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def translations(language: str | None) -> gettext.NullTranslations:
    """The catalogue of ``language`` (any tag, as :func:`language_of`), for
    code that calls ``.gettext`` itself; the default language's returns the
    code's own text."""
    return _catalogue(language_of(language))


@functools.cache
def _catalogue(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    mo = resources.files("referrals") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with mo.open("rb") as file:
        return gettext.GNUTranslations(file)


def translate(text: str, language: str | None = None, /, **params: object) -> str:
    """``text`` (an English msgid) in ``language`` (any tag: ``ru-RU`` is
    ``ru``; unknown: English), with its ``{placeholders}`` filled from
    ``params``. A text with no translation comes back in English."""
    translated = translations(language).gettext(text)
    return translated.format(**params) if params else translated


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "language_of",
    "negotiate",
    "translate",
    "translations",
]
