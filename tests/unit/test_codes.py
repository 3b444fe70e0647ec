import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referrals.domain.codes import (
    INVITE_ALPHABET,
    INVITE_CODE_TYPED,
    LOGIN_TOKEN_LENGTH,
    LOGIN_TOKEN_PATTERN,
    challenge_id,
    code_digest,
    digests_match,
    generate_confirmation_code,
    generate_invite_code,
    new_login_token,
    new_token,
    normalize_confirmation_code,
    normalize_invite_code,
    open_code,
    phone_alias,
    seal_code,
)
from referrals.domain.errors import InvalidConfirmationCode, InvalidInviteCode


@pytest.mark.parametrize("length", [4, 6, 8])
def test_confirmation_codes_have_the_configured_number_of_digits(length: int) -> None:
    codes = {generate_confirmation_code(length) for _ in range(200)}
    assert all(len(c) == length and c.isdigit() for c in codes)
    assert len(codes) > 100  # drawn, not fixed


@pytest.mark.parametrize("length", [3, 9])
def test_code_lengths_outside_4_to_8_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match=r"4\.\.8"):
        generate_confirmation_code(length)


def test_typed_codes_lose_spaces_and_dashes_but_must_be_digits_of_the_length() -> None:
    assert normalize_confirmation_code(" 12-34 ", 4) == "1234"
    for bad in ["123", "12345", "12a4", "١٢٣٤", ""]:
        with pytest.raises(InvalidConfirmationCode):
            normalize_confirmation_code(bad, 4)


def test_invite_codes_are_six_crockford_characters() -> None:
    codes = {generate_invite_code() for _ in range(500)}
    assert all(len(c) == 6 and set(c) <= set(INVITE_ALPHABET) for c in codes)
    assert not set("ILOU") & set("".join(codes))
    assert len(codes) == 500


@pytest.mark.parametrize(
    ("typed", "code"),
    [("trb7w4", "TRB7W4"), ("  BL4LK5 ", "B141K5"), ("OOIL12", "001112"), ("o0i1l1", "001111")],
)
def test_typed_invite_codes_are_normalised(typed: str, code: str) -> None:
    assert normalize_invite_code(typed) == code


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ABCDE",
        "ABCDEFG",
        "ABCDE!",
        "ABCDEU",
        "АБВГДЕ",
        "\u0131AB12C",  # dotless i: upper-cases to I, a look-alike of 1
        "\u017fAB12C",  # long s: upper-cases to S
        "\uff21B12CD",  # full-width A
        "AB12CD\u00a0",  # a no-break space around
        "\ufb00AB12",  # the ff ligature upper-cases to two letters
    ],
)
def test_malformed_invite_codes_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInviteCode):
        normalize_invite_code(typed)


def test_tokens_are_url_safe_and_carry_256_bits() -> None:
    token = new_token()
    assert len(token) >= 43
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_code_digests_depend_on_secret_challenge_and_code() -> None:
    digest = code_digest(b"k", "c1", "1234")
    assert digests_match(digest, code_digest(b"k", "c1", "1234"))
    assert not digests_match(digest, code_digest(b"other", "c1", "1234"))
    assert not digests_match(digest, code_digest(b"k", "c2", "1234"))
    assert not digests_match(digest, code_digest(b"k", "c1", "1235"))
    assert "1234" not in digest


@given(st.integers(0, 9999), st.text(min_size=1, max_size=64))
def test_a_sealed_code_opens_to_itself_with_the_same_secret(number: int, challenge: str) -> None:
    code = f"{number:04d}"
    sealed = seal_code(b"secret", challenge, code)
    assert len(sealed) == 4 and sealed.isdigit()
    assert open_code(b"secret", challenge, sealed) == code


def test_a_sealed_code_reveals_nothing_without_the_secret() -> None:
    sealed = {seal_code(b"secret", f"challenge-{i}", "0000") for i in range(300)}
    assert len(sealed) > 250  # the same code looks different for every challenge


@given(st.from_regex(INVITE_CODE_TYPED, fullmatch=True))
def test_every_code_the_documented_pattern_allows_normalises_into_the_alphabet(typed: str) -> None:
    code = normalize_invite_code(typed)
    assert len(code) == 6
    assert set(code) <= set(INVITE_ALPHABET)


@given(st.text(max_size=12))
def test_a_code_outside_the_documented_pattern_is_refused(typed: str) -> None:
    if re.fullmatch(INVITE_CODE_TYPED, typed) is None:
        with pytest.raises(InvalidInviteCode):
            normalize_invite_code(typed)


def test_login_tokens_have_the_documented_shape() -> None:
    for _ in range(200):
        token = new_login_token(b"k" * 32, phone_alias(b"k" * 32, "+79991234567"))
        assert len(token) == LOGIN_TOKEN_LENGTH
        assert re.fullmatch(LOGIN_TOKEN_PATTERN, token), token


def test_two_tokens_of_one_phone_share_no_prefix_yet_both_lead_to_its_records() -> None:
    secret = b"k" * 32
    alias = phone_alias(secret, "+79991234567")
    tokens = [new_login_token(secret, alias) for _ in range(100)]

    assert len({token[:32] for token in tokens}) == 100
    assert len({token[:2] for token in tokens}) > 1  # not even a shared first byte
    assert all(challenge_id(secret, token).startswith(f"{alias}.") for token in tokens)
    assert not any(challenge_id(b"x" * 32, token).startswith(alias) for token in tokens)


def test_a_token_without_a_hex_routing_part_leads_nowhere() -> None:
    assert challenge_id(b"k" * 32, "z" * 75).startswith(".")
