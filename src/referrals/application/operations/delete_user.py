"""DeleteUser: an operator deletes the account with a phone, as its owner can."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.application.delete_account import EraseAccount
from referrals.application.operations.lookup import UserNotFound, find_user
from referrals.application.policy import Policy
from referrals.application.ports import UnitOfWorkFactory
from referrals.domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteUser:
    """Delete the account with a phone (docs/account.md): the same erasure,
    cooldown and event as the owner's own deletion; its sessions end at once."""

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    erase: EraseAccount

    async def __call__(self, phone: str) -> User:
        user = await find_user(self.policy, self.unit_of_work, phone)
        erased = await self.erase(user.id)
        if erased is None:  # deleted meanwhile
            raise UserNotFound(phone)
        return erased
