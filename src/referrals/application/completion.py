"""The end of a login over any stores: one call after another."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from referrals.application.activity import CODE_VERIFIED, per_channel
from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import (
    ActivityLog,
    ChallengeStore,
    ConversionLog,
    DeliveryLog,
    RateLimiter,
    SessionStore,
)
from referrals.domain.completion import Completed, Completion
from referrals.domain.delivery import DeliveryRecord

log = logging.getLogger("referrals.verify")


def lost(note: str) -> None:
    """Log a note of a completed login that a store that is down lost."""
    log.warning("a login was verified, but its %s was not noted", note)


@dataclass(frozen=True, slots=True)
class StepwiseCompletion:
    """:class:`~referrals.application.ports.LoginCompletion` as calls to each
    store: the session, the consume (the session revoked if it was lost),
    then the notes side by side: the usual network, the pumping counts, the
    delivery record's mark, and the counts ``referrals stats`` reads (the
    login verified in the hour, then by the channel the marked record
    names). The in-memory stores never suspend in between, and every other
    store keeps the one-winner rule this way too."""

    challenges: ChallengeStore
    sessions: SessionStore
    limiter: RateLimiter
    conversion: ConversionLog | None = None
    delivery_log: DeliveryLog | None = None
    activity: ActivityLog | None = None

    async def complete(self, completion: Completion) -> Completed:
        session, now = completion.session, completion.session.created_at
        await self.sessions.create(
            session.session_id, completion.user_id, session.expires_at, now, session.device
        )
        if not await self.challenges.consume(completion.challenge_id, now):
            await self.sessions.revoke(session.session_id)
            return Completed(consumed=False)
        _, _, _, record = await asyncio.gather(
            self._usual(completion),
            self._verified(completion),
            self._count(CODE_VERIFIED, now),
            self._mark(completion),
        )
        if record is not None and record.channel is not None:
            await self._count(per_channel(CODE_VERIFIED, record.channel), now)
        return Completed(consumed=True, record=record)

    async def _usual(self, completion: Completion) -> None:
        if completion.usual is not None:
            try:
                await self.limiter.acquire([completion.usual], completion.session.created_at)
            except ServiceUnavailable:
                lost("usual network")

    async def _verified(self, completion: Completion) -> None:
        if self.conversion is not None and completion.verified:
            try:
                at = completion.session.created_at
                await self.conversion.add(completion.verified, "verified", at, completion.keep)
            except ServiceUnavailable:
                lost("conversion count")

    async def _count(self, name: str, at: float) -> None:
        if self.activity is not None:
            try:
                await self.activity.add(name, at)
            except ServiceUnavailable:
                lost(f"{name} count")

    async def _mark(self, completion: Completion) -> DeliveryRecord | None:
        if self.delivery_log is None or completion.mark is None:
            return None
        try:
            return await self.delivery_log.add(completion.challenge_id, completion.mark)
        except ServiceUnavailable:
            lost("delivery record")
            return None
