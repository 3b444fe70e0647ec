"""Phone numbers as people type them, stored and compared in E.164 only."""

from __future__ import annotations

from collections.abc import Collection
from typing import NewType

import phonenumbers
from phonenumbers import PhoneNumberType

from referrals.domain.errors import InvalidPhone
from referrals.domain.texts import N_

Phone = NewType("Phone", str)
"""A phone number in E.164 form, e.g. ``+79991234567``."""

MAX_TYPED_LENGTH = 32

# Numbers that can receive an SMS. Premium-rate, toll-free, shared-cost and
# similar numbers are refused: they are what SMS-pumping fraud sends codes to.
_SMS_CAPABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


GLOBAL_REGION = "001"
"""phonenumbers' region of non-geographic numbers: satellite phones (Inmarsat
+870, Iridium +8816 and +8817), international networks (+882, +883) and the
like. They are rarely a person's phone and often what SMS pumping is paid
for; phonenumbers calls many of them MOBILE, so the type check lets them by."""


NON_GEOGRAPHIC_CALLING_CODES = frozenset(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
"""The calling codes of :data:`GLOBAL_REGION` (``800``, ``870``, ``881``, ``882``…)."""


class GlobalNumber(InvalidPhone):
    """A non-geographic number (see :data:`GLOBAL_REGION`) whose calling code
    is not opted in."""


def parse_phone(
    typed: str,
    default_region: str = "RU",
    allowed_regions: Collection[str] = (),
    global_calling_codes: Collection[int] | None = (),
) -> Phone:
    """Return the E.164 form of a typed number or raise :class:`InvalidPhone`.

    Numbers without ``+`` are read in ``default_region``; the number must be
    valid for its region and able to receive SMS. When ``allowed_regions`` is
    not empty, only numbers of those regions are accepted. A non-geographic
    number (satellite, international networks) is refused with
    :class:`GlobalNumber` unless its country calling code is in
    ``global_calling_codes`` (``None``: every one).
    """
    if len(typed) > MAX_TYPED_LENGTH:
        raise InvalidPhone(N_("The phone number is too long."))
    try:
        number = phonenumbers.parse(typed, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    # A number is valid exactly when its type is known (phonenumbers'
    # is_valid_number and number_type match its pattern for its region the
    # same way), so the type is looked up once for both checks.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise InvalidPhone()
    region = phonenumbers.region_code_for_number(number)
    opted_in = global_calling_codes is None or number.country_code in global_calling_codes
    if region == GLOBAL_REGION and not opted_in:
        raise GlobalNumber(N_("Satellite and other global numbers are not served."))
    if kind not in _SMS_CAPABLE:
        raise InvalidPhone(N_("This number cannot receive SMS."))
    if region != GLOBAL_REGION and allowed_regions and region not in allowed_regions:
        raise InvalidPhone(N_("Numbers of this country are not served."))
    phone = Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    _remember_region(phone, region)
    return phone


NUMBER_BLOCK_DIGITS = 3
"""Trailing digits that vary inside a block of numbers (1,000 numbers a block)."""


def calling_code(phone: Phone) -> str:
    """The country calling code of an E.164 number: ``7`` for ``+79991234567``.

    Read from its leading digits, without parsing the number (a login asks
    for it twice): calling codes are prefix-free, so the first of one, two
    or three digits that is a calling code is the number's."""
    for length in (1, 2, 3):
        code = phone[1 : 1 + length]
        if code.isdigit() and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code
    return str(phonenumbers.parse(phone).country_code)


def number_block(phone: Phone) -> str:
    """The block of 1,000 consecutive numbers ``phone`` is in: its E.164 form
    without the last three digits (``+79991234`` for ``+79991234567``).

    Numbers are allocated to carriers, and rented out by them, in such blocks:
    SMS-pumping fraud sends codes to many numbers of a few blocks it is paid for.
    """
    return phone[:-NUMBER_BLOCK_DIGITS]


REGIONS_KEPT = 4_096
"""Numbers whose region :func:`parse_phone` keeps for :func:`region_of`: the
ones of the requests under way (a login costs its SMS by region right after
parsing the number), with room to spare."""

_regions: dict[str, str | None] = {}


def _remember_region(phone: Phone, region: str | None) -> None:
    if len(_regions) >= REGIONS_KEPT:  # bounded: start over (the next look-up parses)
        _regions.clear()
    _regions[phone] = region


def region_code(phone: Phone) -> str | None:
    """phonenumbers' region of an E.164 number (``RU``; ``001`` for
    non-geographic numbers; ``None`` when unknown or not a number).

    A number :func:`parse_phone` just returned is answered without parsing it
    again (parsing is most of a look-up's cost)."""
    try:
        return _regions[phone]
    except KeyError:
        pass
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        region = None
    _remember_region(phone, region)
    return region


def region_of(phone: Phone) -> str:
    """The region code of an E.164 number, lower case (``ru``; ``001`` for
    non-geographic numbers; empty when unknown)."""
    return (region_code(phone) or "").lower()


def is_known_region(region: str) -> bool:
    """Whether ``region`` is a region code phonenumbers knows (``RU``, ``US``…)."""
    return region in phonenumbers.SUPPORTED_REGIONS


def masked(phone: str) -> str:
    """A phone for logs: the country code and the next three digits, and the
    last four; the rest hidden (``+7999***4567``). Short or odd text: ``***``."""
    if len(phone) < 10:
        return "***"
    return f"{phone[:5]}***{phone[-4:]}"
