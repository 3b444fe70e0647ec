"""RequestCode: start a login by sending a one-time code to a phone."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from referrals.application import lockout, rate_limits
from referrals.application.errors import RateLimited, SendingPaused, ServiceUnavailable
from referrals.application.events import CodeQueued, Hooks
from referrals.application.policy import Policy
from referrals.application.ports import ChallengeStore, Clock, CodeSender, EventSink, RateLimiter
from referrals.application.pumping import Throttle
from referrals.application.sms_text import SmsText
from referrals.application.spend import SpendCap
from referrals.domain.challenge import Challenge
from referrals.domain.codes import (
    challenge_id,
    code_digest,
    for_purpose,
    generate_confirmation_code,
    new_login_token,
    phone_alias,
    seal_code,
)
from referrals.domain.limits import Quota
from referrals.domain.messages import CodeDelivery
from referrals.domain.phone import Phone, masked
from referrals.domain.routes import Routes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CodeRequest:
    phone: str
    """As typed: any spelling :func:`~referrals.domain.phone.parse_phone` accepts."""
    client_ip: str
    """The caller's address, for the per-address limits (an IPv6 address counts
    as its network, see ``Policy.ipv6_prefix``)."""
    language: str | None = None
    """The language of the SMS (e.g. ``ru`` or ``ru-RU``); the default one if unset."""
    purpose: str = ""
    """Empty for a login; a step-up's purpose and user (``delete:42``), which
    its code is bound to (see :func:`~referrals.domain.codes.for_purpose`)."""


@dataclass(frozen=True, slots=True)
class CodeRequested:
    phone: Phone
    token: str
    """Opaque; the client sends it back with the code to :class:`Verify`."""
    expires_in: int
    resend_after: int
    code: str | None = None
    """The code itself, only when the policy exposes codes (dev and tests)."""
    channel: str | None = None
    """The first channel of the phone's route (``telegram``): where to look
    first. Read from the routes, no provider asked; ``None`` for a test phone."""


@dataclass(frozen=True, slots=True)
class RequestCode:
    """Create a challenge for a phone and queue its code for delivery.

    Refuses with ``RateLimited`` past a sending limit (the cooldown, codes per
    phone, per phone and address, per address, per number block, per
    country, in all) and with ``TooManyAttempts`` while the phone is locked
    by wrong codes (see :mod:`~referrals.application.rate_limits`); each
    quota is checked and taken in one atomic step, so bursts cannot pass
    more. It never looks at the users table, so a registered and a new
    phone get the same answers in the same time. If the code cannot be
    queued, the challenge and the quota it took are given back and the
    caller gets ``ServiceUnavailable``.

    A test phone (``Policy.test_phones``) gets its fixed code and no SMS:
    no sending quota is taken (no cooldown, no per-phone, per-address,
    per-block, per-country or global count), only the wrong-code lock is
    checked, and each use is logged (a warning when
    ``Policy.warn_on_test_phones``). Verifying it is the same as any other.
    """

    policy: Policy
    challenges: ChallengeStore
    limiter: RateLimiter
    code_sender: CodeSender
    clock: Clock
    secret: bytes = field(repr=False)
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`~referrals.application.events.CodeQueued` and
    :class:`~referrals.application.events.LimitReached` go."""
    routes: Routes = field(default_factory=Routes)
    """The route table, to name a login's first channel (and cost its SMS)."""
    spend: SpendCap | None = None
    """Prices and caps of the SMS; ``None``: nothing is costed."""
    sms_text: SmsText = field(default_factory=SmsText)
    """The login SMS, to count the segments a code's SMS takes."""
    throttle: Throttle | None = None
    """Conversion-driven throttling (:mod:`~referrals.application.pumping`); ``None``: none."""

    async def __call__(self, request: CodeRequest) -> CodeRequested:
        async with rate_limits.ReportLimits(self.events, self.clock, "login"):
            requested = await self._request(request)
        await self.events.publish(CodeQueued(at=self.clock.now(), phone=requested.phone))
        return requested

    async def _request(self, request: CodeRequest) -> CodeRequested:
        policy = self.policy
        phone = policy.parse_phone(request.phone)
        alias = phone_alias(self.secret, phone)
        token = new_login_token(self.secret, alias)
        login = challenge_id(self.secret, token)
        client = rate_limits.client_group(request.client_ip, policy.ipv6_prefix)
        fixed_code = policy.test_code(phone)
        network = rate_limits.client_network(request.client_ip, policy.ipv6_network_prefix)

        def quotas_for(owner: bool) -> list[Quota]:
            usual = [lockout.usual_failures(policy, alias, request.client_ip, count=False)]
            if fixed_code is None:
                quotas = rate_limits.send_quotas(policy, phone, alias, client, network, owner=owner)
            else:  # a test phone sends nothing: only the lock by wrong codes applies
                quotas = [
                    rate_limits.phone_failures(policy, alias, client, count=False, owner=owner)
                ]
            return quotas + usual if owner else quotas

        now = self.clock.now()
        refusal, quotas = await lockout.acquire(
            self.limiter, policy, quotas_for, alias, request.client_ip, now, ticket=login
        )
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)

        counted = await self._throttled(phone, request.client_ip, now, fixed_code, login, quotas)
        code = fixed_code or generate_confirmation_code(policy.code_length)
        charge = None
        if fixed_code is None and self.spend is not None and self.spend.active:
            channel = next(iter(self.routes.chain(phone)), "")
            text = self.sms_text.render(code, request.language)
            charge = self.spend.charge(login, phone, channel, text, now)
            try:
                await self.spend.reserve(charge)
            except (SendingPaused, ServiceUnavailable):
                await self._give_back(login, quotas)
                raise
        challenge = Challenge(
            id=login,
            phone=phone,
            code_digest=code_digest(self.secret, for_purpose(login, request.purpose), code),
            expires_at=now + policy.code_ttl,
            max_attempts=policy.code_max_attempts,
        )
        try:
            await self.challenges.put(challenge, now)
            if fixed_code is not None:
                self._log_test_phone(phone)
            else:
                await self.code_sender.send(
                    CodeDelivery(
                        challenge_id=login,
                        phone=phone,
                        sealed_code=seal_code(self.secret, login, code),
                        expires_at=challenge.expires_at,
                        language=request.language,
                        requested_at=now,
                    )
                )
        except ServiceUnavailable:
            await self._give_back(login, quotas)
            if charge is not None and self.spend is not None:
                with contextlib.suppress(ServiceUnavailable):
                    await self.spend.ledger.refund(charge)
            raise
        if self.throttle is not None:  # a count lost to an outage is only a count
            with contextlib.suppress(ServiceUnavailable):
                await self.throttle.sent(counted, now)
        return CodeRequested(
            phone=phone,
            token=token,
            expires_in=round(policy.code_ttl),
            resend_after=round(policy.resend_cooldown),
            code=code if policy.expose_codes else None,
            channel=None if fixed_code is not None else next(iter(self.routes.chain(phone)), None),
        )

    async def _throttled(
        self,
        phone: Phone,
        address: str,
        now: float,
        fixed_code: str | None,
        login: str,
        quotas: Sequence[Quota],
    ) -> list[str]:
        """The groups to count this send under; refused (its quotas given back)
        when one is throttled (see :mod:`~referrals.application.pumping`)."""
        if fixed_code is not None or self.throttle is None:
            return []
        try:
            return await self.throttle.before_send(phone, address, now)
        except (RateLimited, ServiceUnavailable):
            await self._give_back(login, quotas)
            raise

    def _log_test_phone(self, phone: Phone) -> None:
        level = logging.WARNING if self.policy.warn_on_test_phones else logging.INFO
        log.log(level, "test phone %s: login with its fixed code, no SMS sent", masked(phone))

    async def _give_back(self, challenge_id: str, quotas: Sequence[Quota]) -> None:
        # Each on its own: a store that is down too must not keep the other's
        # refund from happening (a quota left taken frees up by itself later).
        with contextlib.suppress(ServiceUnavailable):
            await self.challenges.discard(challenge_id)
        await rate_limits.refund(self.limiter, quotas, challenge_id)
