import pytest

from referrals.domain.errors import InvalidPhone
from referrals.domain.phone import parse_phone


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
