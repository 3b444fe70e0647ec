"""Every text a person reads has its Russian translation, and what runs is compiled from it.

The texts are extracted from the code as ``pybabel`` does (``N_()`` and
``_()`` literals); each must be in ``locales/ru/.../referrals.po``,
translated, not fuzzy, with the same placeholders, and the ``.mo`` next to
it must be the compiled ``.po``. ``scripts/translations.py update`` and
``compile`` fix the last two.
"""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from scripts import translations as catalogue

from referrals.application.errors import NotAuthenticated, RateLimited, TooManyAttempts
from referrals.application.sms_text import SmsText
from referrals.domain.errors import DomainError
from referrals.entrypoints.http.page_texts import page_texts
from referrals.entrypoints.http.texts import validation_message
from referrals.i18n import translations
from referrals.problems import CATALOGUE, TITLES

RUSSIAN = translations("ru")


def test_every_text_of_the_code_is_translated_into_russian() -> None:
    assert catalogue.problems() == []


def test_a_new_text_without_a_translation_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extracted = catalogue.extract()

    def with_a_new_text() -> Catalog:
        extracted.add("A sentence nobody has translated yet.")
        return extracted

    monkeypatch.setattr(catalogue, "extract", with_a_new_text)

    assert catalogue.problems() == [
        "ru: not in the .po (run update): 'A sentence nobody has translated yet.'"
    ]


def _all_subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    """Our own refusals only: other tests define throwaway subclasses."""
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("referrals."):
            found.append(sub)
        found += _all_subclasses(sub)
    return found


@pytest.mark.parametrize(
    "error", [DomainError, *_all_subclasses(DomainError)], ids=lambda cls: cls.__name__
)
def test_every_refusal_has_a_russian_detail(error: type[DomainError]) -> None:
    assert RUSSIAN.gettext(error.message) != error.message


def test_every_status_of_the_catalogue_has_a_russian_title() -> None:
    for kind in CATALOGUE:
        assert RUSSIAN.gettext(TITLES[kind.status]) != TITLES[kind.status], kind.code


def test_the_page_and_the_sms_are_russian_through_and_through() -> None:
    russian = page_texts(RUSSIAN.gettext, "ru")
    english = page_texts()
    for key, text in {**english.labels, **english.messages}.items():
        translated = {**russian.labels, **russian.messages}[key]
        assert translated != text, key
    assert SmsText().render("1234", "ru") == "Код входа: 1234. Никому не сообщайте."


@pytest.mark.parametrize(
    ("message", "russian"),
    [
        ("Expected `str`, got `int`", "Неверный тип: ожидается текст, получено: целое число."),
        (
            "Expected `int | null`, got `str`",
            "Неверный тип: ожидается целое число, получено: текст.",
        ),
        ("Expected `str` of length <= 32", "Слишком длинное значение (максимальная длина: 32)."),
        ("Expected `int` >= 1", "Значение должно быть не меньше 1."),
        ("Expected `int` <= 1000", "Значение должно быть не больше 1000."),
        ("Object missing required field `phone`", "Это поле обязательно."),
        ("Something msgspec says that we do not know", "Недопустимое значение."),
    ],
)
def test_validation_messages_become_our_own_translated_sentences(
    message: str, russian: str
) -> None:
    assert validation_message(message).render("ru") == russian


def test_rate_limit_refusals_keep_their_own_sentences() -> None:
    assert RateLimited.message != TooManyAttempts.message != NotAuthenticated.message
