"""The text of the login SMS, one template per language (see docs/sending-codes.md).

Below the template's text come, when set, the Android SMS Retriever hash of
the app (a line of its own) and, last, the WebOTP line ``@host #code`` that
lets a browser on the phone fill the code into the page of ``host``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from referrals.domain.segments import SmsSize, sms_size
from referrals.domain.texts import N_
from referrals.i18n import DEFAULT_LANGUAGE, LANGUAGES, translations

LOGIN_SMS = N_("Your login code: {code}. Do not share it with anyone.")
"""The default template, translated by the gettext catalogues (:mod:`referrals.i18n`)."""


def default_templates() -> Mapping[str, str]:
    """:data:`LOGIN_SMS` in every language of :data:`referrals.i18n.LANGUAGES`."""
    return {language: translations(language).gettext(LOGIN_SMS) for language in LANGUAGES}


def primary_language(tag: str | None) -> str | None:
    """``"ru"`` for ``"ru-RU"``, ``"RU"`` or ``"ru_RU"``; ``None`` for nothing."""
    if not tag:
        return None
    return tag.replace("_", "-").split("-", 1)[0].strip().lower() or None


@dataclass(frozen=True, slots=True)
class SmsText:
    """Login SMS templates by language (``{code}`` marks the code).

    :meth:`render` picks the template of the asked language (``ru-RU``
    matches ``ru``), else ``default_language``'s. Templates are checked when
    built: each must contain ``{code}`` and no other field.
    """

    templates: Mapping[str, str] = field(default_factory=default_templates)
    default_language: str = DEFAULT_LANGUAGE
    origin_host: str | None = None
    """The host of the page that takes the code: adds the WebOTP line ``@host #code``."""
    app_hash: str | None = None
    """The 11 characters of an Android app's SMS Retriever hash: a line of its own."""

    def __post_init__(self) -> None:
        normalised = {primary_language(k) or k: v for k, v in self.templates.items()}
        for language, template in normalised.items():
            parsed = string.Formatter().parse(template)
            fields = {name for _, name, _, _ in parsed if name is not None}
            if fields != {"code"}:
                raise ValueError(
                    f"the {language!r} SMS template must contain {{code}} and no other field"
                )
        if self.default_language not in normalised:
            raise ValueError(f"no SMS template for the default language {self.default_language!r}")
        object.__setattr__(self, "templates", MappingProxyType(normalised))

    def language_for(self, asked: str | None) -> str:
        """The language the SMS will be written in for ``asked``."""
        language = primary_language(asked)
        return language if language and language in self.templates else self.default_language

    def render(self, code: str, language: str | None = None) -> str:
        lines = [self.templates[self.language_for(language)].format(code=code)]
        if self.app_hash:
            lines.append(self.app_hash)
        if self.origin_host:
            lines.append(f"@{self.origin_host} #{code}")
        return "\n".join(lines)

    def sizes(self, code_length: int) -> dict[str, SmsSize]:
        """What one login SMS costs in each language, for codes of ``code_length`` digits."""
        code = "0" * code_length
        return {language: sms_size(self.render(code, language)) for language in self.templates}
