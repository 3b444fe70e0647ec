"""The login SMS: one SMS per code by default, filled in by phones and
browsers by themselves, and what a longer text costs (docs/sending-codes.md)."""

from __future__ import annotations

import logging
import re

import pytest

from referrals.container import login_sms_text
from referrals.domain.segments import sms_size
from referrals.settings import Settings, SettingsError, load_settings
from tests.unit.test_production import PROD, refusals

HOST = "auth.myapp.ru"
APP_HASH = "FA+9qCX9VSu"
WITH_EVERYTHING = Settings(public_url=f"https://{HOST}", android_app_hash=APP_HASH)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # an escaped character counts twice
        ("€" * 81, "GSM-7", 162, 2),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "ж", "UCS-2", 70, 1),  # one Cyrillic letter makes it all UCS-2
        ("@host #1234\nok", "GSM-7", 14, 1),
    ],
)
def test_sms_segments_are_counted_as_carriers_bill_them(
    text: str, encoding: str, units: int, segments: int
) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_the_default_texts_fit_one_sms_with_the_webotp_line_and_the_app_hash() -> None:
    sizes = WITH_EVERYTHING.sms_text().sizes(WITH_EVERYTHING.policy.code_length)
    assert sizes["en"].encoding == "GSM-7"
    assert sizes["ru"].encoding == "UCS-2"
    assert {language: size.segments for language, size in sizes.items()} == {"en": 1, "ru": 1}


@pytest.mark.parametrize(("language", "word"), [("en", "code"), ("ru", "Код входа")])
def test_the_text_names_the_code_next_to_its_digits_and_ends_with_the_webotp_line(
    language: str, word: str
) -> None:
    lines = WITH_EVERYTHING.sms_text().render("4821", language).splitlines()
    assert re.search(rf"{word}: 4821\b", lines[0])
    assert lines[1:] == [APP_HASH, f"@{HOST} #4821"]


def test_without_a_public_url_or_an_app_hash_the_sms_is_the_template_alone() -> None:
    assert Settings().sms_text().render("4821", "en") == (
        "Your login code: 4821. Do not share it with anyone."
    )


def test_a_host_given_text_gets_the_settings_lines_too() -> None:
    from referrals.application.sms_text import SmsText

    text = WITH_EVERYTHING.sms_text(SmsText({"en": "Bot code: {code}"}))
    assert text.render("4821") == f"Bot code: 4821\n{APP_HASH}\n@{HOST} #4821"


def test_a_custom_template_over_one_sms_is_refused_in_prod_with_its_cost() -> None:
    long_ru = (
        '{"ru": "Здравствуйте! Ваш одноразовый код для входа в приложение: {code}.'
        ' Никому его не сообщайте, даже сотрудникам."}'
    )
    [problem] = refusals(SMS_TEMPLATES=long_ru)
    assert "REFERRALS_SMS_TEMPLATES makes the ru login SMS 2 messages (UCS-2" in problem
    assert "billed 2 times" in problem
    assert load_settings({**PROD, "REFERRALS_SMS_TEMPLATES": '{"ru": "Код: {code}"}'})


def test_outside_prod_a_long_text_is_only_warned_about_with_what_it_costs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings({"REFERRALS_SMS_TEMPLATES": '{"en": "' + "x" * 170 + ' {code}"}'})
    with caplog.at_level(logging.WARNING, "referrals.sms"):
        login_sms_text(settings)
    [warning] = [r.getMessage() for r in caplog.records]
    assert "the en login SMS needs 2 SMS (GSM-7, 175 characters)" in warning
    assert "each code costs 2 messages" in warning


@pytest.mark.parametrize(
    "value", ['{"en": "no code here"}', '["en"]', "not json", '{"en": "{code} {other}"}']
)
def test_a_template_setting_that_cannot_work_is_refused_at_start(value: str) -> None:
    with pytest.raises(SettingsError, match="REFERRALS_SMS_TEMPLATES"):
        load_settings({"REFERRALS_SMS_TEMPLATES": value})


@pytest.mark.parametrize("value", ["short", "FA+9qCX9VSu!", "FA+9qCX9VSuX"])
def test_an_app_hash_must_be_eleven_characters_of_base64(value: str) -> None:
    with pytest.raises(SettingsError, match="REFERRALS_ANDROID_APP_HASH"):
        load_settings({"REFERRALS_ANDROID_APP_HASH": value})
