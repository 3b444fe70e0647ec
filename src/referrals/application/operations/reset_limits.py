"""ResetLimits: lift a phone's locks after support has checked the person."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application import rate_limits
from referrals.application.operations.lookup import parse_user_phone
from referrals.application.policy import Policy
from referrals.application.ports import RateLimiter, UnitOfWorkFactory
from referrals.domain.phone import Phone


@dataclass(frozen=True, slots=True)
class LimitsReset:
    phone: Phone
    user_id: int | None
    """The phone's user, whose unknown-invite-code count was lifted too; ``None``
    when the phone has no user yet (its login limits were lifted all the same)."""


@dataclass(frozen=True, slots=True)
class ResetLimits:
    """Forget a phone's counts: codes sent (the cooldown and the day's codes,
    per address too), wrong codes (from anywhere and per address), and, when
    the phone has a user, their unknown invite codes. Limits on addresses,
    number blocks, countries and the whole service are left alone: they are
    not the person's."""

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    limiter: RateLimiter
    secret: bytes = field(repr=False)

    async def __call__(self, phone: str) -> LimitsReset:
        number = parse_user_phone(self.policy, phone)
        async with self.unit_of_work(read_only=True) as uow:
            user = await uow.users.get_by_phone(number)
        keys = rate_limits.phone_quota_keys(self.secret, number)
        if user is not None:
            keys.append(rate_limits.apply_failures(self.policy, user.id).key)
        await self.limiter.reset(keys)
        return LimitsReset(phone=number, user_id=user.id if user else None)
