"""A login's send decision over the ports, one step after another."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import ChallengeStore, ConversionLog, RateLimiter, SpendLedger
from referrals.application.pumping import first_throttled
from referrals.domain.challenge import Challenge
from referrals.domain.limits import Charge, Limit, Pumping, Quota, SendDecision


@dataclass(frozen=True, slots=True)
class SteppedSendGate:
    """:class:`~referrals.application.ports.SendGate` over any
    :class:`RateLimiter`, :class:`ConversionLog`, :class:`SpendLedger` and
    :class:`ChallengeStore`: the quotas, then the groups' counts, then the
    spend, then the count of the send and the challenge, each a call of its
    port; what a later step refused or failed is given back.

    With ``lock`` the whole decision holds it. The in-memory adapters never
    suspend inside a call, so under the lock nothing of this process comes
    in between: the decision is one atomic step, like the Redis gate's
    script. Over adapters of a host's own (a limiter given in ``Adapters``)
    it is what the ports give: each step atomic on its own.
    """

    limiter: RateLimiter
    conversion: ConversionLog | None = None
    """Needed for a send with ``pumping``."""
    spend: SpendLedger | None = None
    """Needed for a send with a ``charge``."""
    challenges: ChallengeStore | None = None
    """Needed for a send with a ``challenge``."""
    lock: asyncio.Lock | None = field(default=None, compare=False)

    async def acquire(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None = None,
        charge: Charge | None = None,
        caps: Sequence[Limit] = (),
        challenge: Challenge | None = None,
    ) -> SendDecision:
        async with self.lock or contextlib.nullcontext():
            refusal = await self.limiter.acquire(quotas, now, ticket)
            if refusal is not None:
                return SendDecision(refusal=refusal)
            try:
                decision = await self._rest(now, pumping, charge, caps)
            except BaseException:
                with contextlib.suppress(ServiceUnavailable):
                    await self.limiter.refund(quotas, ticket)
                raise
            if not decision.passed:
                await self.limiter.refund(quotas, ticket)
            elif challenge is not None:
                await self._store(challenge, quotas, now, ticket, pumping, charge)
            return decision

    async def _store(
        self,
        challenge: Challenge,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None,
        charge: Charge | None,
    ) -> None:
        """Store the challenge of a send that passed; if that fails, give the send back."""
        if self.challenges is None:
            raise ValueError("a challenge needs the gate's challenge store")
        try:
            await self.challenges.put(challenge, now)
        except BaseException:
            with contextlib.suppress(ServiceUnavailable):
                await self.give_back(quotas, now, ticket, pumping, charge)
            raise

    async def _rest(
        self, now: float, pumping: Pumping | None, charge: Charge | None, caps: Sequence[Limit]
    ) -> SendDecision:
        """The groups and the spend of a send whose quotas are taken."""
        throttled = None
        if pumping is not None:
            names = [name for name, _ in pumping.groups]
            counts = await self._conversion().counts(names, now - pumping.window)
            throttled = first_throttled(pumping, counts)
            if throttled is not None and pumping.enforce:
                return SendDecision(throttled=throttled, enforced=True)
        if charge is not None:
            if self.spend is None:
                raise ValueError("a charge needs the gate's spend ledger")
            wait = await self.spend.reserve(charge, caps)
            if wait is not None:
                return SendDecision(throttled=throttled, paused=wait)
        if pumping is not None:
            try:
                await self._conversion().add(names, "sent", now, pumping.window)
            except BaseException:
                if charge is not None and self.spend is not None:
                    with contextlib.suppress(ServiceUnavailable):
                        await self.spend.refund(charge)
                raise
        return SendDecision(throttled=throttled)

    def _conversion(self) -> ConversionLog:
        if self.conversion is None:
            raise ValueError("a send with pumping groups needs the gate's conversion log")
        return self.conversion

    async def give_back(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None = None,
        charge: Charge | None = None,
    ) -> None:
        # Each on its own: a store that is down must not keep the others'
        # from happening (a quota left taken frees up by itself later).
        steps = [self.limiter.refund(quotas, ticket)]
        if pumping is not None:
            names = [name for name, _ in pumping.groups]
            steps.append(self._conversion().add(names, "sent", now, pumping.window, by=-1))
        if charge is not None and self.spend is not None:
            steps.append(self.spend.refund(charge))
        failed = None
        for step in steps:
            try:
                await step
            except ServiceUnavailable as exc:
                failed = exc
        if failed is not None:
            raise failed
