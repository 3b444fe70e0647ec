"""Verify: check a one-time code, create the user on first login, open a session."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field

from referrals.application import lockout, outbox, rate_limits
from referrals.application.code_check import StepwiseCodeCheck
from referrals.application.conversion import RecordConversion
from referrals.application.errors import ServiceUnavailable
from referrals.application.events import (
    Event,
    Hooks,
    LoginSucceeded,
    UserCreated,
    VerificationFailed,
)
from referrals.application.policy import Policy
from referrals.application.ports import (
    ChallengeStore,
    Clock,
    CodeCheck,
    EventSink,
    RateLimiter,
    SessionStore,
    UnitOfWorkFactory,
)
from referrals.application.profile import GetProfile, Profile, profile_of
from referrals.application.pumping import Throttle
from referrals.application.sessions import Session, open_session
from referrals.domain.challenge import AttemptResult
from referrals.domain.codes import (
    alias_of,
    challenge_id,
    code_digest,
    generate_invite_code,
    login_tag,
    normalize_confirmation_code,
    token_digest,
)
from referrals.domain.device import device_of
from referrals.domain.errors import ChallengeExpired, CodeInvalid
from referrals.domain.integrity import device_key
from referrals.domain.logins import LoginRecord
from referrals.domain.phone import Phone
from referrals.domain.user import User

log = logging.getLogger("referrals.verify")

INVITE_CODE_DRAWS = 8
"""Fresh invite codes tried before giving up (32**6 ≈ 10**9 codes: collisions are rare)."""


@dataclass(frozen=True, slots=True)
class VerifyCode:
    token: str
    """The token :class:`~referrals.application.request_code.RequestCode` returned."""
    code: str
    """As typed; spaces and dashes are ignored."""
    client_ip: str
    """The caller's address, for the per-address limits (an IPv6 address counts
    as its network, see ``Policy.ipv6_prefix``)."""
    user_agent: str | None = None
    """The caller's ``User-Agent``: the session keeps it (cut) for its owner's list."""
    device_id: str | None = None
    """The caller's device id (a well-formed one, see
    :func:`~referrals.domain.integrity.device_id`): the login history keeps
    its key, for the ``same_device`` signal of referral integrity."""


@dataclass(frozen=True, slots=True)
class Verified:
    session: Session
    is_new_user: bool
    """Whether this is the user's first successful login."""
    profile: Profile


@dataclass(frozen=True, slots=True)
class Verify:
    """Exchange a challenge token and its code for a session.

    Order of effects, on purpose. First the attempt is charged, before the
    code is looked at: one verification on the client's address, and one
    wrong code on the phone (from anywhere, and from this address), each
    quota in one atomic step that refuses (``TooManyAttempts``) when it is
    full. So however many wrong codes arrive at once, no more are checked
    than the limits allow. Then the code is checked atomically (wrong codes
    are also counted per login and burn it at ``code_max_attempts``); a
    right code, or a token with no live login, gives the wrong-code charge
    back. If the check itself fails (``ServiceUnavailable``) the charge is
    kept: the code may have been looked at. The charge, the check and the
    refund are one step where the stores allow (``code_check``: one Lua
    script on one Redis server, see ``docs/performance.md``).

    Then the user is fetched or created idempotently, their profile read
    with it (one statement on PostgreSQL), then a session is opened, and
    last the challenge is consumed: only the one caller that consumed it
    keeps its session (the others' are revoked at once). Until that last
    step nothing is lost: if the database or the session store is down, the
    challenge is still live, so the same code works once it is back.

    ``is_new_user`` is true for the user's first login that succeeds: the
    user row keeps the login that created it (``created_by``, written with
    the insert) until a login of theirs is consumed, which clears it. So an
    earlier try that created the user and then failed, of this login or of
    another, does not take it away. :class:`UserCreated` (for new users) and
    :class:`LoginSucceeded` are published once the challenge is consumed.
    """

    policy: Policy
    challenges: ChallengeStore
    limiter: RateLimiter
    unit_of_work: UnitOfWorkFactory
    sessions: SessionStore
    get_profile: GetProfile
    clock: Clock
    secret: bytes = field(repr=False)
    events: EventSink = field(default_factory=Hooks)
    """Where :class:`UserCreated` and :class:`LoginSucceeded` go; no hooks by default."""
    throttle: Throttle | None = None
    """Counts each login verified for conversion-driven throttling."""
    conversion: RecordConversion | None = None
    """Marks the login's delivery record verified (for conversion by channel)."""
    code_check: CodeCheck | None = None
    """Charges and checks a code in one step; by default ``limiter`` and
    ``challenges`` one call after the other (:class:`StepwiseCodeCheck`)."""

    @property
    def _code_check(self) -> CodeCheck:
        return self.code_check or StepwiseCodeCheck(self.limiter, self.challenges)

    async def __call__(self, command: VerifyCode) -> Verified:
        async with rate_limits.ReportLimits(self.events, self.clock, "verify"):
            try:
                return await self._verify(command)
            except (CodeInvalid, ChallengeExpired) as exc:
                await self.events.publish(VerificationFailed(at=self.clock.now(), reason=exc.code))
                raise

    async def _verify(self, command: VerifyCode) -> Verified:
        policy = self.policy
        code = normalize_confirmation_code(command.code, policy.code_length)
        login = challenge_id(self.secret, command.token)
        alias = alias_of(login)
        if not alias:  # not a token we issued: no login to look at, only the charge
            now = self.clock.now()
            await lockout.charge_verification(
                self.limiter, policy, alias, command.client_ip, now, secrets.token_hex(8)
            )
            raise ChallengeExpired()

        digest = code_digest(self.secret, login, code)
        attempt = await lockout.check_code(
            self._code_check,
            self.limiter,
            policy,
            login,
            digest,
            command.client_ip,
            self.clock.now(),
        )  # the wrong-code charge is given back unless the code was wrong
        if attempt.result is AttemptResult.WRONG:
            raise CodeInvalid(attempt.attempts_left)
        if attempt.result is AttemptResult.GONE or attempt.phone is None:
            raise ChallengeExpired()

        tag = login_tag(login)
        usual = self._remember_network(alias, command.client_ip)
        _, (user, profile) = await asyncio.gather(usual, self._get_or_create(attempt.phone, tag))
        is_new_user = user.created_by is not None  # none of their logins succeeded yet
        device = device_of(command.client_ip, command.user_agent)
        session = await open_session(self.sessions, self.clock, user.id, policy.session_ttl, device)
        if not await self.challenges.consume(login, self.clock.now()):
            await self.sessions.revoke(token_digest(session.token))
            raise ChallengeExpired()
        if self.throttle is not None:
            await self._count_verified(attempt.phone, command.client_ip)
        entry = LoginRecord.of(
            user.id, self.clock.now(), device, device_key(self.secret, command.device_id)
        )
        if self.conversion is None:
            await self._announce(user, is_new_user, entry)
        else:  # side by side: neither waits for the other
            await asyncio.gather(
                self._announce(user, is_new_user, entry), self.conversion(login, self.clock.now())
            )
        return Verified(session=session, is_new_user=is_new_user, profile=profile)

    async def _count_verified(self, phone: Phone, address: str) -> None:
        # A count lost to an outage is only a count: the login stands.
        assert self.throttle is not None  # noqa: S101 (the caller checked)
        with contextlib.suppress(ServiceUnavailable):
            await self.throttle.verified(phone, address, self.clock.now())

    async def _remember_network(self, alias: str, address: str) -> None:
        # One of the owner's usual networks from now on (see lockout); if it
        # cannot be written, the owner has one way through the lock less.
        quota = lockout.usual_networks(self.policy, alias, address, count=True)
        with contextlib.suppress(ServiceUnavailable):
            await self.limiter.acquire([quota], self.clock.now())

    async def _get_or_create(self, phone: Phone, tag: str) -> tuple[User, Profile]:
        """The user of ``phone``, created by this login if there is none, and
        their profile: one statement (one round trip on PostgreSQL)."""
        size = self.get_profile.page_size(None)
        for _ in range(INVITE_CODE_DRAWS):
            async with self.unit_of_work(autocommit=True) as uow:
                found = await uow.users.get_or_add(phone, generate_invite_code(), tag, size + 1)
                await uow.commit()
            if found is not None:
                return found[0], profile_of(*found, size)
            # A concurrent login created this phone, or the invite code was
            # taken: the next round finds the user or draws a new code.
        raise RuntimeError("could not draw a free invite code")

    async def _announce(self, user: User, is_new_user: bool, entry: LoginRecord) -> None:
        """Write the login in one unit (on PostgreSQL one round trip, all riding
        with its COMMIT): a first login's welcome with its ``user.created``
        (written only by the one login that welcomes the user), the
        ``login.succeeded`` event and the login history's row. Then publish
        the events to the hooks.

        The login is done and stays done: if the database fails now, its rows
        are lost (logged), and a new user's next login is reported as new once
        more instead.
        """
        at = entry.at
        events: list[Event] = []
        if is_new_user:
            events.append(
                UserCreated(at=at, user_id=user.id, phone=user.phone, invite_code=user.invite_code)
            )
        succeeded = LoginSucceeded(
            at=at, user_id=user.id, phone=user.phone, is_new_user=is_new_user
        )
        try:
            async with self.unit_of_work() as uow:
                if is_new_user:
                    uow.outbox.welcome(user.id, outbox.exported(events[0]))
                outbox.stage(uow, [succeeded])
                uow.outbox.record_login(entry)
                await uow.commit()
        except ServiceUnavailable:
            log.warning("user %d logged in, but the login was not recorded", user.id)
        for event in [*events, succeeded]:
            await self.events.publish(event)
