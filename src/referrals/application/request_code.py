"""RequestCode: start a login by sending a one-time code to a phone."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from referrals.application import lockout, rate_limits
from referrals.application.errors import ServiceUnavailable
from referrals.application.events import CodeQueued, Hooks
from referrals.application.policy import Policy
from referrals.application.ports import (
    ChallengeStore,
    Clock,
    CodeSender,
    EventSink,
    RateLimiter,
    SendGate,
)
from referrals.application.pumping import Throttle
from referrals.application.send_gate import SteppedSendGate
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
from referrals.domain.limits import Charge, Quota, Refusal, SendDecision
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
    by wrong codes (see :mod:`~referrals.application.rate_limits`), past
    the pumping throttle (:mod:`~referrals.application.pumping`) and with
    ``SendingPaused`` past the spend cap. The quotas, the throttle's groups
    and the charge are checked and taken, and the challenge stored, in one
    atomic step (``gate``, one script on Redis), so bursts cannot pass
    more, and a refusal takes nothing and keeps the phone's live code. It
    never looks at the users table, so a registered and a new phone get the
    same answers in the same time. If the code cannot be
    queued, the challenge, the quotas, the counted send and the charge are
    given back and the caller gets ``ServiceUnavailable``.

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
    gate: SendGate | None = None
    """Decides the quotas, the throttle and the spend of a send and stores
    its challenge in one step; ``None``:
    :class:`~referrals.application.send_gate.SteppedSendGate` over
    ``limiter``, the throttle's log, the spend's ledger and ``challenges``."""

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
        code = fixed_code or generate_confirmation_code(policy.code_length)
        pumping = charge = None
        if fixed_code is None:  # a test phone is never throttled nor charged
            pumping = self.throttle.check(phone, request.client_ip) if self.throttle else None
            charge = self._charge(login, phone, code, request.language, now)
        challenge = Challenge(
            id=login,
            phone=phone,
            code_digest=code_digest(self.secret, for_purpose(login, request.purpose), code),
            expires_at=now + policy.code_ttl,
            max_attempts=policy.code_max_attempts,
        )
        gate, decided = self._gate(), SendDecision()

        async def take(quotas: Sequence[Quota]) -> Refusal | None:
            nonlocal decided
            caps = self.spend.caps if self.spend is not None else ()
            decided = await gate.acquire(quotas, now, login, pumping, charge, caps, challenge)
            return decided.refusal

        refusal, quotas = await lockout.acquire(
            self.limiter, policy, quotas_for, alias, request.client_ip, now, login, take
        )
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)
        if pumping is not None and self.throttle is not None:
            await self.throttle.decided(pumping, decided, now)  # refuses when enforced
        if decided.paused is not None and self.spend is not None:
            self.spend.pause(decided.paused)
        try:
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
            # Each on its own: a store that is down too must not keep the
            # other's from happening (what stays taken frees up by itself later).
            with contextlib.suppress(ServiceUnavailable):
                await self.challenges.discard(login)
            with contextlib.suppress(ServiceUnavailable):
                await gate.give_back(quotas, now, login, pumping, charge)
            raise
        return CodeRequested(
            phone=phone,
            token=token,
            expires_in=round(policy.code_ttl),
            resend_after=round(policy.resend_cooldown),
            code=code if policy.expose_codes else None,
            channel=None if fixed_code is not None else next(iter(self.routes.chain(phone)), None),
        )

    def _gate(self) -> SendGate:
        if self.gate is not None:
            return self.gate
        return SteppedSendGate(
            self.limiter,
            self.throttle.log if self.throttle is not None else None,
            self.spend.ledger if self.spend is not None else None,
            self.challenges,
        )

    def _charge(
        self, login: str, phone: Phone, code: str, language: str | None, now: float
    ) -> Charge | None:
        """What the code's SMS costs; ``None`` when nothing is costed."""
        if self.spend is None or not self.spend.active:
            return None
        channel = next(iter(self.routes.chain(phone)), "")
        text = self.sms_text.render("0" * len(code), language)  # the size of any such code
        return self.spend.charge(login, phone, channel, text, now)

    def _log_test_phone(self, phone: Phone) -> None:
        level = logging.WARNING if self.policy.warn_on_test_phones else logging.INFO
        log.log(level, "test phone %s: login with its fixed code, no SMS sent", masked(phone))
