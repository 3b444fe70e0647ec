"""referrals.i18n: the language of an Accept-Language header, and texts in it."""

import pytest

from referrals.i18n import DEFAULT_LANGUAGE, LANGUAGES, language_of, negotiate, translate


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("RU", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE, de;q=0.9, ru;q=0.1", "ru"),
        ("en;q=0.5, ru;q=0.9", "ru"),
        ("ru;q=0.5, en;q=0.5", "ru"),  # a tie: the header's order
        ("de, fr", "en"),
        ("ru;q=0", "en"),  # q=0: not acceptable
        ("*", "en"),
        ("de, *;q=0.5, ru;q=0.4", "en"),
        ("ru;q=abc, en;q=0.1", "en"),  # a malformed weight does not count
        ("ru;q=2", "en"),
        (";;,,;q=", "en"),
        ("x" * 10_000, "en"),
    ],
)
def test_the_best_language_of_an_accept_language_header(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_english_is_the_default_and_russian_the_other() -> None:
    assert DEFAULT_LANGUAGE == "en"
    assert LANGUAGES == ("en", "ru")
    assert language_of("ru_RU") == "ru"
    assert language_of("de") == language_of(None) == "en"


def test_a_text_comes_in_the_language_asked_for_with_its_placeholders_filled() -> None:
    assert translate("The code is {length} digits.", "ru", length=6) == "Код состоит из 6 цифр."
    assert translate("The code is {length} digits.", "en", length=6) == "The code is 6 digits."
    assert translate("The code is {length} digits.", "ru-RU", length=4) == "Код состоит из 4 цифр."


def test_an_unknown_language_or_text_stays_english() -> None:
    assert translate("Not a valid phone number.", "de") == "Not a valid phone number."
    assert translate("Not a text of ours.", "ru") == "Not a text of ours."
