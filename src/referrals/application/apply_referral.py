"""ApplyReferral: a user enters someone else's invite code, once."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from referrals.application import integrity, outbox, rate_limits
from referrals.application.errors import (
    ConcurrencyConflict,
    NotAuthenticated,
    ServiceUnavailable,
)
from referrals.application.events import (
    Hooks,
    ReferralApplied,
    ReferralDecided,
    ReferralRefused,
)
from referrals.application.policy import Policy
from referrals.application.ports import Clock, Cooldowns, EventSink, RateLimiter, UnitOfWorkFactory
from referrals.application.profile import GetProfile, Profile, profile_of
from referrals.domain.codes import InviteCode, normalize_invite_code, phone_alias
from referrals.domain.errors import (
    DomainError,
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCooldown,
    ReferralCycle,
    SuspectedSelfReferral,
)
from referrals.domain.integrity import Action, Screening
from referrals.domain.user import COOLDOWN_UNKNOWN, User

log = logging.getLogger("referrals.referrals")

RULE_REFUSALS: tuple[type[DomainError], ...] = (
    ReferralCodeNotFound,
    ReferralAlreadyApplied,
    OwnReferralCode,
    ReferralCycle,
    ReferralCooldown,
    SuspectedSelfReferral,
)
"""The rules' refusals, which :class:`ReferralRefused` reports by their ``code``."""

CONFLICT_RETRIES = 8
"""Runs of the unit after losing a race, with jittered backoff, before giving up."""


@dataclass(frozen=True, slots=True)
class ApplyReferral:
    """Apply an invite code for a user and return their updated profile.

    The rules (exists, not own, once, no cycle of any length) are checked in
    one unit of work whose repository holds the user and the referrer chain
    until commit, so concurrent applications cannot both pass: of many by
    one user at most one succeeds, and of A↔B at most one. A lost race
    (``ConcurrencyConflict``) runs the unit again, where the winner's write
    is then visible.

    Unknown codes count toward a per-user limit (``apply_failure``): every
    application is charged one failure before the code is looked up, in one
    atomic step that refuses (``TooManyAttempts``) when the user's quota is
    full, and the charge is given back unless the code turns out unknown.
    So concurrent guesses never get more codes looked up than the limit.
    :class:`ReferralApplied` is written to the outbox in the same unit, and
    published to the hooks after the commit.

    Self-referral signals (:mod:`~referrals.application.integrity`):
    ``code_burst`` rides in the charge above (one more round trip only when
    it fires), ``same_network`` and ``same_device`` are read from the login
    history in the unit's step that applies the code. The policy's strictest action for
    them decides, after the rules passed: ``refuse`` raises
    ``SuspectedSelfReferral`` (nothing written), ``hold`` records the
    referral ``pending_review`` with no event until an operator approves it,
    ``allow`` applies it. Every decision is published as
    :class:`ReferralDecided` with its signals, and logged.

    The rules, the policy's action and the write, and the profile's first
    page, are one step of the repository (``apply_code``: one statement on
    PostgreSQL, which answers which rule refused). A number still in its
    cooldown after its account was deleted is refused (``ReferralCooldown``)
    once the rules passed, before the signals' action: the user's row keeps
    the cooldown's end, written when verify created the user on that number
    or a phone change moved them to it (docs/account.md), so it costs no
    round trip of its own. A row from before that column, of a user who had
    not applied a code (``COOLDOWN_UNKNOWN``), asks ``cooldowns`` once the
    statement answered, before the COMMIT, as every application did before.
    """

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    limiter: RateLimiter
    get_profile: GetProfile
    clock: Clock
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`ReferralApplied` goes; no hooks by default."""
    cooldowns: Cooldowns | None = None
    """Numbers of deleted accounts, asked only for a user whose row predates
    its cooldown column (``COOLDOWN_UNKNOWN``); ``None``: not asked."""
    secret: bytes = field(default=b"", repr=False)
    """The key of the phone aliases ``cooldowns`` keeps, and of the device
    ids' and networks' hashes (referral integrity)."""

    async def __call__(
        self, user_id: int, typed_code: str, client_ip: str = "", device_id: str | None = None
    ) -> Profile:
        """``client_ip`` and ``device_id`` (a well-formed one, see
        :func:`~referrals.domain.integrity.device_id`) are the caller's, for
        the self-referral signals; unknown (empty) for a library call."""
        async with rate_limits.ReportLimits(self.events, self.clock, "apply"):
            try:
                return await self._apply_code(user_id, typed_code, client_ip, device_id)
            except RULE_REFUSALS as exc:
                event = ReferralRefused(at=self.clock.now(), user_id=user_id, reason=exc.code)
                await self.events.publish(event)
                raise

    async def _apply_code(
        self, user_id: int, typed_code: str, client_ip: str, device_id: str | None
    ) -> Profile:
        code = normalize_invite_code(typed_code)
        policy = self.policy
        failures = rate_limits.apply_failures(policy, user_id)
        ticket = secrets.token_hex(8)
        signals = integrity.Signals(policy, self.limiter, self.secret)
        burst = await signals.charge(failures, code, client_ip, self.clock.now(), ticket)
        screening = signals.screening(burst, client_ip, device_id, self.clock.now())

        async def refund() -> None:
            await rate_limits.refund(self.limiter, [failures], ticket)

        try:
            applied, profile, action = await self._apply_with_retries(
                user_id, code, screening, refund
            )
        except ReferralCodeNotFound:
            raise  # the charge stays: an unknown code is what it counts
        except SuspectedSelfReferral as refused:
            await refund()
            await self._decided(user_id, code, "refused", refused.signals)
            raise
        except Exception:
            await refund()  # again if it went with a failed COMMIT: it gives back once
            raise
        held = action is Action.HOLD
        await self._decided(user_id, code, "held" if held else "applied", applied.signals)
        if not held:
            await self.events.publish(applied)
        return profile

    async def _decided(
        self, user_id: int, code: InviteCode, decision: str, signals: tuple[str, ...]
    ) -> None:
        named = ",".join(signals) or "none"
        log.info("referral of user %d %s (signals: %s)", user_id, decision, named)
        event = ReferralDecided(
            at=self.clock.now(),
            user_id=user_id,
            invite_code=code,
            decision=decision,
            signals=signals,
        )
        await self.events.publish(event)

    async def _apply_with_retries(
        self,
        user_id: int,
        code: InviteCode,
        screening: Screening,
        refund: Callable[[], Awaitable[None]],
    ) -> tuple[ReferralApplied, Profile, Action]:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._apply(user_id, code, screening, refund)
            except ConcurrencyConflict:
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise ServiceUnavailable("the database (too much contention)", retry_after=1)

    async def _apply(
        self,
        user_id: int,
        code: InviteCode,
        screening: Screening,
        refund: Callable[[], Awaitable[None]],
    ) -> tuple[ReferralApplied, Profile, Action]:
        """Apply ``code`` in one unit of work (the rules, the number's
        cooldown, the signals' action and the write in one step, see
        ``UserRepository.apply_code``), its event in the unit's outbox (a
        held one: recorded ``pending_review``, no event); the event, once
        committed, the user's profile and the action taken. The COMMIT and
        the charge's ``refund`` go side by side: the code was found, so the
        charge is given back whether the COMMIT lands or not."""
        size = self.get_profile.page_size(None)
        async with self.unit_of_work() as uow:
            now = self.clock.now()
            done = await uow.users.apply_code(user_id, code, size + 1, screening, now)
            if done.user is None or done.user.erased:
                raise NotAuthenticated()
            if done.refusal is not None:
                raise done.refusal
            if done.referrer is None:  # applied: the adapter names the referrer
                raise RuntimeError("a code was applied without its referrer")
            if done.user.cooldown_until == COOLDOWN_UNKNOWN:
                await self._check_cooldown(done.user)  # raised: the unit rolls back
            applied = ReferralApplied(
                at=self.clock.now(),
                user_id=user_id,
                referrer_id=done.referrer.id,
                invite_code=done.referrer.invite_code,
                signals=done.signals,
            )
            if done.action is not Action.HOLD:
                outbox.stage(uow, [applied])
            await asyncio.gather(uow.commit(), refund())
        return applied, profile_of(done.user, done.page, size), done.action

    async def _check_cooldown(self, user: User) -> None:
        """A row from before migration 0008: its number's cooldown from the store."""
        if self.cooldowns is None:
            return
        alias = phone_alias(self.secret, user.phone)
        if await self.cooldowns.ends(alias, self.clock.now()) is not None:
            raise ReferralCooldown()
