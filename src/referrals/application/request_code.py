"""RequestCode: start a login by sending a one-time code to a phone."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from referrals.application import rate_limits
from referrals.application.errors import ServiceUnavailable
from referrals.application.policy import Policy
from referrals.application.ports import (
    ChallengeStore,
    Clock,
    CodeDelivery,
    CodeSender,
    Quota,
    RateLimiter,
)
from referrals.domain.challenge import Challenge
from referrals.domain.codes import (
    code_digest,
    generate_confirmation_code,
    new_token,
    seal_code,
    token_digest,
)
from referrals.domain.phone import Phone, parse_phone


@dataclass(frozen=True, slots=True)
class CodeRequest:
    phone: str
    """As typed: any spelling :func:`~referrals.domain.phone.parse_phone` accepts."""
    client_ip: str
    """The caller's address, for the per-address limits."""
    language: str | None = None
    """The language of the SMS (e.g. ``ru`` or ``ru-RU``); the default one if unset."""


@dataclass(frozen=True, slots=True)
class CodeRequested:
    phone: Phone
    token: str
    """Opaque; the client sends it back with the code to :class:`Verify`."""
    expires_in: int
    resend_after: int
    code: str | None = None
    """The code itself, only when the policy exposes codes (dev and tests)."""


@dataclass(frozen=True, slots=True)
class RequestCode:
    """Create a challenge for a phone and queue its code for delivery.

    Refuses with ``RateLimited`` past the cooldown, the per-phone and
    per-address sending limits, or while the phone is locked by wrong codes.
    It never looks at the users table, so a registered and a new phone get
    the same answers in the same time. If the code cannot be queued, the
    challenge and the quota it took are given back and the caller gets
    ``ServiceUnavailable``.
    """

    policy: Policy
    challenges: ChallengeStore
    limiter: RateLimiter
    code_sender: CodeSender
    clock: Clock
    secret: bytes = field(repr=False)

    async def __call__(self, request: CodeRequest) -> CodeRequested:
        policy = self.policy
        phone = parse_phone(request.phone, policy.default_region, policy.allowed_regions)
        token = new_token()
        challenge_id = token_digest(token)
        quotas = (
            rate_limits.phone_failure(policy, phone, count=False),
            rate_limits.cooldown(policy, phone),
            rate_limits.phone_send(policy, phone),
            rate_limits.ip_send(policy, request.client_ip),
        )
        now = self.clock.now()
        refusal = await self.limiter.acquire(quotas, now, ticket=challenge_id)
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)

        code = generate_confirmation_code(policy.code_length)
        challenge = Challenge(
            id=challenge_id,
            phone=phone,
            code_digest=code_digest(self.secret, challenge_id, code),
            expires_at=now + policy.code_ttl,
            max_attempts=policy.code_max_attempts,
        )
        try:
            await self.challenges.put(challenge, now)
            await self.code_sender.send(
                CodeDelivery(
                    challenge_id=challenge_id,
                    phone=phone,
                    sealed_code=seal_code(self.secret, challenge_id, code),
                    expires_at=challenge.expires_at,
                    language=request.language,
                )
            )
        except ServiceUnavailable:
            await self._give_back(challenge_id, quotas)
            raise
        return CodeRequested(
            phone=phone,
            token=token,
            expires_in=round(policy.code_ttl),
            resend_after=round(policy.resend_cooldown),
            code=code if policy.expose_codes else None,
        )

    async def _give_back(self, challenge_id: str, quotas: Sequence[Quota]) -> None:
        # Each on its own: a store that is down too must not keep the other's
        # refund from happening (a quota left taken frees up by itself later).
        with contextlib.suppress(ServiceUnavailable):
            await self.challenges.discard(challenge_id)
        with contextlib.suppress(ServiceUnavailable):
            await self.limiter.refund(quotas, challenge_id)
