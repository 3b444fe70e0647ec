"""The text of the login SMS, one template per language."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "en": "Your login code: {code}. Do not share it with anyone.",
        "ru": "Ваш код для входа: {code}. Никому его не сообщайте.",
    }
)


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

    templates: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TEMPLATES)
    default_language: str = "en"

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
        return self.templates[self.language_for(language)].format(code=code)
