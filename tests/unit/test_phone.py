import phonenumbers
import pytest

from referrals.application.policy import Policy
from referrals.domain import phone as phone_module
from referrals.domain.errors import InvalidPhone
from referrals.domain.phone import (
    REGIONS_KEPT,
    GlobalNumber,
    Phone,
    calling_code,
    parse_phone,
    region_of,
)
from referrals.domain.routes import region_of as route_region_of
from referrals.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    "typed",
    ["+79991234567", "89991234567", "+7 (999) 123-45-67", "7 999 123 45 67", " +7-999-123-4567 "],
)
def test_every_usual_spelling_of_a_number_is_one_e164_phone(typed: str) -> None:
    assert parse_phone(typed) == "+79991234567"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc",
        "+7999123456",
        "123",
        "+7 999 123 45 67 89 00",
        "+0 000",
        "9" * 40,
        "8 800 555 35 35",
    ],
)
def test_numbers_that_are_not_valid_mobiles_are_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        parse_phone(typed)


def test_numbers_without_plus_are_read_in_the_default_region() -> None:
    assert parse_phone("(650) 253-0000", default_region="US") == "+16502530000"


def test_allowed_regions_refuse_numbers_of_other_countries() -> None:
    assert parse_phone("+79991234567", allowed_regions={"RU"}) == "+79991234567"
    with pytest.raises(InvalidPhone):
        parse_phone("+447911123456", allowed_regions={"RU"})


SATELLITE = ["+881612345678", "+881712345678", "+870301234567", "+8823421234", "+883510012345"]
"""Iridium (+8816, +8817), Inmarsat (+870) and the international networks +882
and +883: phonenumbers calls them valid, most of them mobile."""


@pytest.mark.parametrize("typed", SATELLITE)
def test_satellite_and_global_numbers_are_refused_by_default(typed: str) -> None:
    with pytest.raises(GlobalNumber):
        parse_phone(typed)


def test_a_global_calling_code_can_be_opted_in() -> None:
    assert parse_phone("+881612345678", global_calling_codes={881}) == "+881612345678"
    with pytest.raises(GlobalNumber):
        parse_phone("+870301234567", global_calling_codes={881})


def test_the_policy_carries_the_opted_in_codes_and_serves_test_phones_of_any_kind() -> None:
    policy = Policy(global_calling_codes=frozenset({870}))
    assert policy.parse_phone("+870301234567") == "+870301234567"
    with pytest.raises(GlobalNumber):
        policy.parse_phone("+881612345678")

    reviewer = Policy(test_phones={"+881612345678": "1234"})
    assert reviewer.parse_phone("+881612345678") == "+881612345678"
    with pytest.raises(GlobalNumber):
        reviewer.parse_phone("+881712345678")


def test_global_calling_codes_are_read_from_the_environment() -> None:
    settings = load_settings({"REFERRALS_GLOBAL_CALLING_CODES": "870, +881"})
    assert settings.policy.global_calling_codes == {870, 881}
    with pytest.raises(SettingsError, match="REFERRALS_GLOBAL_CALLING_CODES"):
        load_settings({"REFERRALS_GLOBAL_CALLING_CODES": "7"})  # Russia is not global


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("premium rate", "+449012345678"),
        ("shared cost", "+33884012345"),
        ("UAN", "+445512345678"),
        ("pager", "+447640123456"),
        ("voicemail", "+49177991234567"),
        ("toll free", "+448001234567"),
        ("VoIP", "+445612345678"),
        ("personal number", "+447012345678"),
    ],
)
def test_numbers_that_are_never_a_persons_phone_are_refused_before_any_send(
    kind: str, typed: str
) -> None:
    """The README's list: pumping is paid for on such numbers."""
    with pytest.raises(InvalidPhone, match="cannot receive SMS"):
        parse_phone(typed)


def test_the_calling_code_is_the_one_phonenumbers_parses_for_every_country() -> None:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS | {"001"}):
        codes = (
            phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
            if region == "001"
            else {phonenumbers.country_code_for_region(region)}
        )
        for code in codes:
            example = (
                phonenumbers.example_number_for_non_geo_entity(code)
                if region == "001"
                else phonenumbers.example_number(region)
            )
            if example is None:
                continue
            phone = Phone(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
            assert calling_code(phone) == str(example.country_code), phone


def _examples() -> list[phonenumbers.PhoneNumber]:
    """An example number of every type of every region and global network,
    and each with its last digit dropped and one more added (mostly invalid)."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.append(example)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            found.append(example)
    variants = []
    for number in found:
        for national in (number.national_number // 10, number.national_number * 10 + 7):
            variants.append(phonenumbers.PhoneNumber(number.country_code, national))
    return found + variants


def _reference(typed: str) -> tuple[str, str]:
    """What parse_phone answered when it asked phonenumbers for validity, the
    region and the type separately: (E.164 or the refusal's class, region)."""
    number = phonenumbers.parse(typed)
    if not phonenumbers.is_valid_number(number):
        return "InvalidPhone", ""
    region = phonenumbers.region_code_for_number(number) or ""
    if region == "001":
        return "GlobalNumber", region
    if phonenumbers.number_type(number) not in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        return "InvalidPhone", region
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), region


def test_parsing_answers_what_phonenumbers_validity_region_and_type_say_for_every_example() -> None:
    """parse_phone looks the type up once for validity and kind, and keeps the
    region it found for region_of: the answers are the reference's for the
    examples of every region and type (and broken variants of them)."""
    examples = _examples()
    assert len(examples) > 3_000
    for example in examples:
        typed = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        expected, region = _reference(typed)
        try:
            answer = parse_phone(typed)
        except InvalidPhone as refusal:
            answer = type(refusal).__name__
        assert answer == expected, typed
        if answer.startswith("+"):
            assert region_of(Phone(answer)) == region.lower(), typed
            assert route_region_of(Phone(answer)) == region, typed


def test_the_region_of_a_number_not_parsed_here_is_read_from_the_number() -> None:
    assert region_of(Phone("+77012345678")) == "kz"  # a +7 number that is not Russian
    assert route_region_of(Phone("+12025550123")) == "US"
    assert route_region_of(Phone("not a number")) == "ZZ"
    assert region_of(Phone("+999")) == ""


def test_the_regions_kept_are_bounded() -> None:
    for n in range(REGIONS_KEPT + 10):
        parse_phone(f"+7999{n:07d}")
    assert 0 < len(phone_module._regions) <= REGIONS_KEPT
