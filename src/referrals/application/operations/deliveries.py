"""ShowDeliveries: what became of a phone's last login codes, for support."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application.operations.lookup import parse_user_phone
from referrals.application.policy import Policy
from referrals.application.ports import DeliveryLog
from referrals.domain.codes import phone_alias
from referrals.domain.delivery import DeliveryRecord
from referrals.domain.errors import InvalidInput
from referrals.domain.phone import Phone

RECENT = 10


@dataclass(frozen=True, slots=True)
class PhoneDeliveries:
    phone: Phone
    logins: list[DeliveryRecord]
    """Newest first; each with its route, status and every step's time."""


@dataclass(frozen=True, slots=True)
class ShowDeliveries:
    """The phone's last logins' delivery records (kept ``REFERRALS_DELIVERY_HISTORY``
    seconds), found by the phone's alias: the records hold no phone number."""

    policy: Policy
    delivery_log: DeliveryLog
    secret: bytes = field(repr=False)

    async def __call__(self, phone: str, limit: int = RECENT) -> PhoneDeliveries:
        if limit < 1:
            raise InvalidInput("limit", "--limit must be 1 or more.")
        number = parse_user_phone(self.policy, phone)
        records = await self.delivery_log.recent(phone_alias(self.secret, number), limit)
        return PhoneDeliveries(phone=number, logins=records)
