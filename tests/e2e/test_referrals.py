"""Applying invite codes and reading who applied one's own (docs/rules.md, docs/http-api.md)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from referrals.domain.codes import InviteCode, generate_invite_code
from tests.e2e.conftest import (
    OTHER_PHONE,
    PHONE,
    apply_code,
    assert_problem,
    bearer,
    invite_code,
    phone_number,
    profile,
    sign_in,
)

THIRD_PHONE = "+79990001122"


async def test_applying_a_code_answers_the_updated_profile(client: AsyncTestClient[Any]) -> None:
    referrer = await sign_in(client, PHONE)
    user = await sign_in(client, OTHER_PHONE)
    code = await invite_code(client, referrer)

    response = await apply_code(client, user, code)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["phone"] == OTHER_PHONE
    assert body["used_referral_code"] == code
    assert body == await profile(client, user)


async def test_the_referrer_sees_who_applied_their_code(client: AsyncTestClient[Any]) -> None:
    referrer = await sign_in(client, PHONE)
    user = await sign_in(client, OTHER_PHONE)
    await apply_code(client, user, await invite_code(client, referrer))

    body = await profile(client, referrer)

    assert body["referred_users"] == [OTHER_PHONE]
    assert body["referred_users_count"] == 1
    assert body["next_cursor"] is None
    assert body["used_referral_code"] is None


async def test_a_code_is_applied_with_the_session_cookie_too(client: AsyncTestClient[Any]) -> None:
    referrer = await sign_in(client, PHONE)
    code = await invite_code(client, referrer)
    await sign_in(client, OTHER_PHONE, keep_cookie=True)

    response = await client.post("/api/profile/", json={"used_referral_code": code})

    assert response.status_code == 200
    assert response.json()["used_referral_code"] == code


# --- 404, 409 ---------------------------------------------------------------


async def test_an_unknown_code_is_referral_code_not_found(client: AsyncTestClient[Any]) -> None:
    user = await sign_in(client)
    own = await invite_code(client, user)
    unknown = "000000" if own != "000000" else "111111"

    response = await apply_code(client, user, unknown)

    assert_problem(response, 404, "referral_code_not_found")
    assert (await profile(client, user))["used_referral_code"] is None


async def test_a_code_can_be_applied_only_once(client: AsyncTestClient[Any]) -> None:
    first = await sign_in(client, PHONE)
    second = await sign_in(client, THIRD_PHONE)
    user = await sign_in(client, OTHER_PHONE)
    first_code = await invite_code(client, first)
    await apply_code(client, user, first_code)

    again = await apply_code(client, user, first_code)
    another = await apply_code(client, user, await invite_code(client, second))

    assert_problem(again, 409, "referral_already_applied")
    assert_problem(another, 409, "referral_already_applied")
    assert (await profile(client, user))["used_referral_code"] == first_code
    assert (await profile(client, second))["referred_users_count"] == 0


async def test_ones_own_code_is_refused(client: AsyncTestClient[Any]) -> None:
    user = await sign_in(client)

    response = await apply_code(client, user, await invite_code(client, user))

    assert_problem(response, 409, "own_referral_code")
    assert (await profile(client, user))["used_referral_code"] is None


async def test_ones_own_code_typed_in_lower_case_is_refused_too(
    client: AsyncTestClient[Any],
) -> None:
    user = await sign_in(client)

    response = await apply_code(client, user, f"  {(await invite_code(client, user)).lower()} ")

    assert_problem(response, 409, "own_referral_code")


async def test_a_cycle_of_two_is_refused(client: AsyncTestClient[Any]) -> None:
    a = await sign_in(client, PHONE)
    b = await sign_in(client, OTHER_PHONE)
    assert (await apply_code(client, a, await invite_code(client, b))).status_code == 200

    response = await apply_code(client, b, await invite_code(client, a))

    assert_problem(response, 409, "referral_cycle")
    assert (await profile(client, b))["used_referral_code"] is None
    assert (await profile(client, a))["referred_users_count"] == 0


async def test_a_cycle_of_three_is_refused(client: AsyncTestClient[Any]) -> None:
    a = await sign_in(client, PHONE)
    b = await sign_in(client, OTHER_PHONE)
    c = await sign_in(client, THIRD_PHONE)
    assert (await apply_code(client, a, await invite_code(client, b))).status_code == 200
    assert (await apply_code(client, b, await invite_code(client, c))).status_code == 200

    response = await apply_code(client, c, await invite_code(client, a))

    assert_problem(response, 409, "referral_cycle")
    assert (await profile(client, c))["used_referral_code"] is None


async def test_a_long_chain_without_a_cycle_is_fine(client: AsyncTestClient[Any]) -> None:
    users = [await sign_in(client, phone_number(n)) for n in range(6)]
    for user, referrer in itertools.pairwise(users):
        assert (await apply_code(client, user, await invite_code(client, referrer))).is_success

    closing = await apply_code(client, users[-1], await invite_code(client, users[0]))

    assert_problem(closing, 409, "referral_cycle")


async def test_a_referrer_cannot_apply_the_code_of_anyone_they_referred(
    client: AsyncTestClient[Any],
) -> None:
    a = await sign_in(client, PHONE)
    b = await sign_in(client, OTHER_PHONE)
    c = await sign_in(client, THIRD_PHONE)
    assert (await apply_code(client, a, await invite_code(client, c))).is_success
    assert (await apply_code(client, b, await invite_code(client, c))).is_success

    response = await apply_code(client, c, await invite_code(client, b))

    assert_problem(response, 409, "referral_cycle")
    assert (await profile(client, c))["referred_users"] == [PHONE, OTHER_PHONE]


async def test_a_referrer_of_a_referrer_may_be_referred_by_an_outsider(
    client: AsyncTestClient[Any],
) -> None:
    a = await sign_in(client, PHONE)
    b = await sign_in(client, OTHER_PHONE)
    outsider = await sign_in(client, THIRD_PHONE)
    await apply_code(client, a, await invite_code(client, b))

    response = await apply_code(client, b, await invite_code(client, outsider))

    assert response.status_code == 200, response.text


# --- normalisation of typed codes -------------------------------------------


@pytest.fixture
def fixed_invite_code(monkeypatch: pytest.MonkeyPatch) -> str:
    """The next user created gets invite code ``A0B1C1``; later ones random codes.

    A fixed code is the only way to be sure it holds the digits 0 and 1,
    whose look-alikes (O, I, L) are the point of the tests below.
    """
    code = "A0B1C1"
    codes = iter([InviteCode(code)])
    monkeypatch.setattr(
        "referrals.application.verify.generate_invite_code",
        lambda: next(codes, None) or generate_invite_code(),
    )
    return code


@pytest.mark.parametrize(
    "typed",
    [
        "A0B1C1",
        "a0b1c1",
        "  A0B1C1  ",
        "\tA0B1C1\n",
        "AOB1C1",
        "A0BIC1",
        "A0B1CL",
        "aobicl",
        " aObLci ",
    ],
)
async def test_a_typed_invite_code_is_normalised(
    client: AsyncTestClient[Any], fixed_invite_code: str, typed: str
) -> None:
    referrer = await sign_in(client, PHONE)
    assert await invite_code(client, referrer) == fixed_invite_code
    user = await sign_in(client, OTHER_PHONE)

    response = await apply_code(client, user, typed)

    assert response.status_code == 200, response.text
    assert response.json()["used_referral_code"] == fixed_invite_code


async def test_every_spelling_of_a_code_reaches_the_same_referrer(
    client: AsyncTestClient[Any], fixed_invite_code: str
) -> None:
    referrer = await sign_in(client, PHONE)
    spellings = ["a0b1c1", " A0B1C1 ", "AOBIC1", "aoblcl"]
    phones = [phone_number(n) for n in range(len(spellings))]
    for phone, spelling in zip(phones, spellings, strict=True):
        user = await sign_in(client, phone)
        assert (await apply_code(client, user, spelling)).status_code == 200

    body = await profile(client, referrer)

    assert body["referred_users"] == phones
    assert body["referred_users_count"] == len(spellings)


@pytest.mark.parametrize(
    "typed", ["", "ABC", "ABCDEFG", "AB CD12", "ABCDE!", "ÄBCDEF", "ABCDEU", "A" * 32]
)
async def test_a_malformed_invite_code_is_a_validation_error(
    client: AsyncTestClient[Any], typed: str
) -> None:
    user = await sign_in(client)

    response = await apply_code(client, user, typed)

    body = assert_problem(response, 400, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["used_referral_code"]


# --- paging the referred users ----------------------------------------------


async def _referrer_with(client: AsyncTestClient[Any], count: int) -> tuple[str, list[str]]:
    referrer = await sign_in(client, PHONE)
    code = await invite_code(client, referrer)
    phones = [phone_number(n) for n in range(count)]
    for phone in phones:
        assert (await apply_code(client, await sign_in(client, phone), code)).status_code == 200
    return referrer, phones


async def test_referred_users_are_paged_oldest_first(client: AsyncTestClient[Any]) -> None:
    referrer, phones = await _referrer_with(client, 7)

    pages: list[list[str]] = []
    counts: set[int] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} if cursor is None else {"limit": 3, "cursor": cursor}
        body = await profile(client, referrer, **params)
        pages.append(body["referred_users"])
        counts.add(body["referred_users_count"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
        assert len(pages) < 10

    assert pages == [phones[0:3], phones[3:6], phones[6:7]]
    assert counts == {7}


async def test_a_page_exactly_full_has_no_next_cursor(client: AsyncTestClient[Any]) -> None:
    referrer, phones = await _referrer_with(client, 3)

    body = await profile(client, referrer, limit=3)

    assert body["referred_users"] == phones
    assert body["next_cursor"] is None


async def test_the_default_page_holds_everyone_when_there_are_few(
    client: AsyncTestClient[Any],
) -> None:
    referrer, phones = await _referrer_with(client, 4)

    body = await profile(client, referrer)

    assert body["referred_users"] == phones
    assert body["next_cursor"] is None


async def test_a_cursor_can_be_reused(client: AsyncTestClient[Any]) -> None:
    referrer, phones = await _referrer_with(client, 5)
    cursor = (await profile(client, referrer, limit=2))["next_cursor"]

    first = await profile(client, referrer, limit=2, cursor=cursor)
    again = await profile(client, referrer, limit=2, cursor=cursor)

    assert first == again
    assert first["referred_users"] == phones[2:4]


async def test_new_referrals_land_on_the_last_page(client: AsyncTestClient[Any]) -> None:
    referrer, phones = await _referrer_with(client, 2)
    cursor = (await profile(client, referrer, limit=1))["next_cursor"]
    latecomer = phone_number(99)
    await apply_code(client, await sign_in(client, latecomer), await invite_code(client, referrer))

    body = await profile(client, referrer, limit=5, cursor=cursor)

    assert body["referred_users"] == [phones[1], latecomer]
    assert body["referred_users_count"] == 3


async def test_someone_elses_referrals_are_not_listed(client: AsyncTestClient[Any]) -> None:
    referrer, _ = await _referrer_with(client, 2)
    other = await sign_in(client, OTHER_PHONE)

    body = await profile(client, other)

    assert body["referred_users"] == []
    assert body["referred_users_count"] == 0
    assert (await profile(client, referrer))["referred_users_count"] == 2


async def test_paging_reads_with_the_cookie_too(client: AsyncTestClient[Any]) -> None:
    referrer, phones = await _referrer_with(client, 2)
    client.cookies.set("referrals_session", referrer)

    response = await client.get("/api/profile/", params={"limit": 1})

    assert response.status_code == 200
    assert response.json()["referred_users"] == phones[:1]
    client.cookies.clear()
    assert (await client.get("/api/profile/", headers=bearer(referrer))).is_success
