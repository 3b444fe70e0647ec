import pytest

from referrals.domain.codes import InviteCode
from referrals.domain.errors import (
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCycle,
)
from referrals.domain.phone import Phone
from referrals.domain.user import User, ensure_can_apply


def user(user_id: int, referrer: int | None = None) -> User:
    return User(user_id, Phone(f"+7999000000{user_id}"), InviteCode(f"CODE0{user_id}"), referrer)


def test_a_first_code_of_someone_else_outside_any_cycle_may_be_applied() -> None:
    ensure_can_apply(user(1), user(2), owner_referrers=[3, 4])


def test_a_code_nobody_has_is_refused() -> None:
    with pytest.raises(ReferralCodeNotFound):
        ensure_can_apply(user(1), None, [])


def test_ones_own_code_is_refused() -> None:
    with pytest.raises(OwnReferralCode):
        ensure_can_apply(user(1), user(1), [])


def test_a_second_code_is_refused_even_if_it_does_not_exist() -> None:
    with pytest.raises(ReferralAlreadyApplied):
        ensure_can_apply(user(1, referrer=2), None, [])


@pytest.mark.parametrize("chain", [[1], [5, 1], [5, 6, 7, 1]])
def test_a_code_whose_owner_is_below_the_user_closes_a_cycle(chain: list[int]) -> None:
    with pytest.raises(ReferralCycle):
        ensure_can_apply(user(1), user(2), chain)
