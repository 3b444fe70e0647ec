"""DeliveryStatus: where a login's code is, for the page that waits for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application import rate_limits
from referrals.application.policy import Policy
from referrals.application.ports import ChallengeStore, Clock, DeliveryLog, RateLimiter
from referrals.domain.codes import challenge_id
from referrals.domain.delivery import Status
from referrals.domain.errors import ChallengeExpired
from referrals.domain.routes import Routes


@dataclass(frozen=True, slots=True)
class StatusQuery:
    token: str
    """The login's token, as :class:`~referrals.application.verify.Verify` takes it."""
    client_ip: str


@dataclass(frozen=True, slots=True)
class LoginDelivery:
    """Which channel carries a login's code and how far it got; nothing about the code."""

    channel: str | None
    """The channel carrying the code now (before any took it: the route's first)."""
    status: Status
    failed_over: bool
    """Whether the code moved past the route's first channel."""


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """Answer where a login's code is (see docs/sending-codes.md).

    Each question counts against the address's verification limit
    (``ip_verify``), as a verification does, so asking cannot be used to
    probe tokens faster than guessing codes. A token with neither a live
    login nor a delivery record is ``ChallengeExpired``.
    """

    policy: Policy
    secret: bytes = field(repr=False)
    challenges: ChallengeStore
    limiter: RateLimiter
    delivery_log: DeliveryLog
    routes: Routes
    clock: Clock

    async def __call__(self, query: StatusQuery) -> LoginDelivery:
        client = rate_limits.client_group(query.client_ip, self.policy.ipv6_prefix)
        now = self.clock.now()
        refusal = await self.limiter.acquire([rate_limits.ip_verify(self.policy, client)], now)
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)
        login = challenge_id(self.secret, query.token)
        record = await self.delivery_log.get(login)
        if record is not None:
            channel = record.channel or (record.route[0] if record.route else None)
            return LoginDelivery(channel, record.status, record.failed_over)
        challenge = await self.challenges.get(login, now)
        if challenge is None:
            raise ChallengeExpired()
        chain = self.routes.chain(challenge.phone)
        return LoginDelivery(chain[0] if chain else None, Status.QUEUED, failed_over=False)
