"""GetStats: the service's figures, for the people who run it."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application.activity import (
    CODE_DELIVERED,
    CODE_SENT,
    CODE_VERIFIED,
    HOUR,
    per_channel,
)
from referrals.application.ports import ActivityLog, Clock, SpendLedger, UnitOfWorkFactory
from referrals.application.spend import utc_day
from referrals.domain.user import User

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class ChannelConversion:
    """One channel's codes over the last day: sent, delivered (by receipt), used."""

    channel: str
    sent: int
    delivered: int
    verified: int

    @property
    def conversion(self) -> float | None:
        """Logins verified ÷ codes delivered; ``None`` before any receipt said delivered."""
        return self.verified / self.delivered if self.delivered else None


@dataclass(frozen=True, slots=True)
class Spend:
    """What the SMS through one channel to one country cost today (UTC)."""

    channel: str
    country: str
    amount: float


@dataclass(frozen=True, slots=True)
class Stats:
    users: int
    users_last_day: int
    referrals: int
    referrals_last_day: int
    codes_sent_last_day: int
    """Codes the SMS gateway accepted in the last 24 hourly buckets (this one included)."""
    codes_verified_last_day: int
    """Successful logins in the last 24 hourly buckets (this one included)."""
    top_referrers: list[User]
    channels: list[ChannelConversion]
    """Per channel of the routes, in route order."""
    spend_today: list[Spend] = field(default_factory=list)
    """By channel and country, dearest first (docs/sending-codes.md, *Spend*)."""


@dataclass(frozen=True, slots=True)
class GetStats:
    """Users and referrals (in all, and over the last day) from the database;
    codes sent and verified over the last day from the activity log."""

    unit_of_work: UnitOfWorkFactory
    activity: ActivityLog
    clock: Clock
    channels: tuple[str, ...] = ()
    """The channels the routes name (``Settings.routes.channels``)."""
    spend: SpendLedger | None = None

    async def __call__(self, top: int = 10) -> Stats:
        now = self.clock.now()
        async with self.unit_of_work(read_only=True) as uow:
            totals = await uow.users.totals(now - DAY, top)
        since = now - DAY + HOUR  # 24 buckets: 23 whole hours and this one so far
        return Stats(
            users=totals.users,
            users_last_day=totals.users_since,
            referrals=totals.referrals,
            referrals_last_day=totals.referrals_since,
            codes_sent_last_day=await self.activity.count(CODE_SENT, since, now),
            codes_verified_last_day=await self.activity.count(CODE_VERIFIED, since, now),
            top_referrers=totals.top_referrers,
            channels=[await self._channel(channel, since, now) for channel in self.channels],
            spend_today=await self._spend(now),
        )

    async def _spend(self, now: float) -> list[Spend]:
        if self.spend is None:
            return []
        day = await self.spend.day(utc_day(now))
        lines = [
            Spend(channel, country, round(amount, 6)) for (channel, country), amount in day.items()
        ]
        return sorted(lines, key=lambda line: (-line.amount, line.channel, line.country))

    async def _channel(self, channel: str, since: float, now: float) -> ChannelConversion:
        sent, delivered, verified = [
            await self.activity.count(per_channel(name, channel), since, now)
            for name in (CODE_SENT, CODE_DELIVERED, CODE_VERIFIED)
        ]
        return ChannelConversion(channel, sent, delivered, verified)
