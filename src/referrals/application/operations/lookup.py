"""Finding the user an operator names, by phone or by invite code."""

from __future__ import annotations

from referrals.application.policy import Policy
from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.codes import normalize_invite_code
from referrals.domain.errors import InvalidInput, InvalidInviteCode, InvalidPhone
from referrals.domain.phone import Phone, parse_phone
from referrals.domain.user import User


class UserNotFound(LookupError):
    """No user has the phone or invite code an operator gave."""

    def __init__(self, given: str) -> None:
        super().__init__(f"no user has {given}")
        self.given = given


def parse_user_phone(policy: Policy, typed: str) -> Phone:
    """The E.164 form of a typed phone, read as the API reads it, any region
    (global numbers included)."""
    return parse_phone(typed, policy.default_region, (), None)


async def find_user(
    policy: Policy, unit_of_work: UnitOfWorkFactory, typed: str, *, by_code: bool = False
) -> User:
    """The user with phone ``typed`` (or, with ``by_code``, with that phone or
    invite code: six characters are read as a code first). Raises
    :class:`~referrals.domain.errors.InvalidInput` for text that is neither,
    :class:`UserNotFound` when nobody has it."""
    code = None
    if by_code:
        try:
            code = normalize_invite_code(typed)
        except InvalidInviteCode:
            code = None
    async with unit_of_work(read_only=True) as uow:
        if code is not None:
            user = await uow.users.get_by_invite_code(code)
            if user is not None:
                return user
        try:
            phone = parse_user_phone(policy, typed)
        except InvalidPhone:
            if code is not None:
                raise UserNotFound(f"invite code {code}") from None
            what = "a phone number or an invite code" if by_code else "a phone number"
            raise InvalidInput("phone", f"{typed!r} is not {what}.") from None
        user = await uow.users.get_by_phone(phone)
    if user is None:
        raise UserNotFound(f"phone {phone}")
    return user
