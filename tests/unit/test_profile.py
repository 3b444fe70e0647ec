import base64
import re

import pytest

from referrals.application.errors import NotAuthenticated
from referrals.application.profile import (
    CURSOR_MAX_LENGTH,
    CURSOR_PATTERN,
    MAX_RANK,
    decode_cursor,
    encode_cursor,
)
from referrals.domain.errors import InvalidInput
from tests.unit.conftest import World


async def referrer_with(world: World, count: int) -> tuple[int, list[str]]:
    owner = (await world.sign_in("+79990000000")).profile
    phones = []
    for i in range(count):
        phone = f"+7999200{i:04d}"
        user = (await world.sign_in(phone, ip=f"10.3.{i // 200}.{i % 200}")).profile
        await world.apply_referral(user.id, owner.invite_code)
        phones.append(phone)
    return owner.id, phones


async def test_referred_users_come_oldest_first_one_page_at_a_time(world: World) -> None:
    owner, phones = await referrer_with(world, 7)
    seen, cursor, pages = [], None, 0
    while True:
        profile = await world.get_profile(owner, cursor=cursor, limit=3)
        assert profile.referred_count == 7
        seen.extend(profile.referred_phones)
        pages += 1
        cursor = profile.next_cursor
        if cursor is None:
            break
    assert seen == phones
    assert pages == 3


async def test_the_last_full_page_has_no_next_cursor(world: World) -> None:
    owner, _ = await referrer_with(world, 4)
    profile = await world.get_profile(owner, limit=4)
    assert len(profile.referred_phones) == 4 and profile.next_cursor is None


async def test_the_default_page_is_100_and_the_largest_1000(world: World) -> None:
    owner, _ = await referrer_with(world, 1)
    assert world.get_profile.page_size(None) == 100
    assert world.get_profile.page_size(1000) == 1000
    for bad in (0, -1, 1001):
        with pytest.raises(InvalidInput):
            await world.get_profile(owner, limit=bad)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "x",
        "!!!!",
        encode_cursor(5)[:-1] + "*",
        "cjEyYQ",
        encode_cursor(1) + "=",  # padded: decodes, but was never given out
        "cjF",  # other trailing bits, same rank as "cjE"
        "c!jE",  # base64 decoding skips the "!"
        encode_cursor(7) + "\n",
        base64.urlsafe_b64encode(b"r007").decode().rstrip("="),  # leading zeros
    ],
)
def test_cursors_we_did_not_issue_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(cursor or "=")


def test_a_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor(123456)) == 123456


@pytest.mark.parametrize("rank", [0, 1, 9, 10, 99, 123456, MAX_RANK])
def test_every_cursor_given_out_has_the_documented_shape(rank: int) -> None:
    cursor = encode_cursor(rank)
    assert len(cursor) <= CURSOR_MAX_LENGTH
    assert re.fullmatch(CURSOR_PATTERN, cursor), cursor


async def test_a_user_that_does_not_exist_is_not_authenticated(world: World) -> None:
    with pytest.raises(NotAuthenticated):
        await world.get_profile(42)
