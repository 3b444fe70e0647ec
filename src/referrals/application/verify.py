"""Verify: check a one-time code, create the user on first login, open a session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from referrals.application import conversion, lockout, rate_limits
from referrals.application.code_check import StepwiseCodeCheck
from referrals.application.completion import StepwiseCompletion
from referrals.application.conversion import RecordConversion
from referrals.application.events import Hooks, VerificationFailed
from referrals.application.login_announcement import AnnounceLogin
from referrals.application.policy import Policy
from referrals.application.ports import (
    ChallengeStore,
    Clock,
    CodeCheck,
    EventSink,
    LoginCompletion,
    RateLimiter,
    SessionStore,
    UnitOfWorkFactory,
)
from referrals.application.profile import GetProfile, Profile, profile_of
from referrals.application.pumping import Throttle
from referrals.application.sessions import Session, new_session
from referrals.domain.challenge import AttemptResult
from referrals.domain.codes import (
    alias_of,
    challenge_id,
    code_digest,
    generate_invite_code,
    login_tag,
    normalize_confirmation_code,
)
from referrals.domain.completion import Completed, Completion
from referrals.domain.device import Device, device_of
from referrals.domain.errors import ChallengeExpired, CodeInvalid
from referrals.domain.integrity import device_key
from referrals.domain.logins import LoginRecord
from referrals.domain.phone import Phone
from referrals.domain.user import User

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
    with it (one statement on PostgreSQL); a new user's row keeps when the
    number's re-registration cooldown ends, which the code check read with
    the code (``Attempt.cooldown_until``), so applying a code needs no
    read of its own (docs/account.md). Last the challenge is
    consumed with a session opened: only the one caller that consumed it
    keeps a session (``completion``: on one Redis server one script writes
    the session only if it consumed; elsewhere the session comes first and
    the others' are revoked at once). Until that last step nothing is lost:
    if the database or the session store is down, the challenge is still
    live, so the same code works once it is back. The delivery record's
    mark and the counts ``referrals stats`` reads (by the caller that
    consumed), the owner's usual network and the pumping counts ride along
    with it, each at best.

    ``is_new_user`` is true for the user's first login that succeeds: the
    user row keeps the login that created it (``created_by``, written with
    the insert) until a login of theirs is consumed, which clears it. So an
    earlier try that created the user and then failed, of this login or of
    another, does not take it away. The login's rows and its events
    (``UserCreated`` for new users, ``LoginSucceeded``) are written and
    published once the challenge is consumed (:class:`AnnounceLogin`).
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
    """Where ``UserCreated`` and ``LoginSucceeded`` go; no hooks by default."""
    throttle: Throttle | None = None
    """Counts each login verified for conversion-driven throttling."""
    conversion: RecordConversion | None = None
    """Marks the login's delivery record verified (for conversion by channel)."""
    code_check: CodeCheck | None = None
    """Charges and checks a code in one step; by default ``limiter`` and
    ``challenges`` one call after the other (:class:`StepwiseCodeCheck`)."""

    completion: LoginCompletion | None = None
    """Ends a login in as few steps as the stores allow; by default the
    stores one call after another (:class:`StepwiseCompletion`)."""

    @property
    def _code_check(self) -> CodeCheck:
        return self.code_check or StepwiseCodeCheck(self.limiter, self.challenges)

    @property
    def _completion(self) -> LoginCompletion:
        if self.completion is not None:
            return self.completion
        counts = self.throttle.log if self.throttle is not None else None
        records = self.conversion.delivery_log if self.conversion is not None else None
        return StepwiseCompletion(self.challenges, self.sessions, self.limiter, counts, records)

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
        user, profile = await self._get_or_create(attempt.phone, tag, attempt.cooldown_until)
        is_new_user = user.created_by is not None  # none of their logins succeeded yet
        device = device_of(command.client_ip, command.user_agent)
        session, completed = await self._complete(login, attempt.phone, user.id, command, device)
        if not completed.consumed:
            raise ChallengeExpired()
        entry = LoginRecord.of(
            user.id, self.clock.now(), device, device_key(self.secret, command.device_id)
        )
        announce = AnnounceLogin(self.unit_of_work, self.events, self.conversion)
        await announce(user, is_new_user, entry, completed.record)
        return Verified(session=session, is_new_user=is_new_user, profile=profile)

    async def _complete(
        self, login: str, phone: Phone, user_id: int, command: VerifyCode, device: Device
    ) -> tuple[Session, Completed]:
        """Consume the login and open its session; note the owner's usual
        network (see lockout: if it cannot be written, the owner has one way
        through the lock less), count the login verified for the pumping
        throttle, and mark its delivery record (a note lost to an outage is
        only a note: the login stands)."""
        policy, now, address = self.policy, self.clock.now(), command.client_ip
        session, info = new_session(user_id, policy.session_ttl, now, device)
        completion = Completion(
            challenge_id=login,
            user_id=user_id,
            session=info,
            usual=lockout.usual_networks(policy, alias_of(login), address, count=True),
            verified=self.throttle.verified_groups(phone, address) if self.throttle else (),
            keep=policy.pumping_window,
            mark=conversion.mark(now) if self.conversion is not None else None,
        )
        return session, await self._completion.complete(completion)

    async def _get_or_create(
        self, phone: Phone, tag: str, cooldown_until: float | None
    ) -> tuple[User, Profile]:
        """The user of ``phone``, created by this login if there is none (with
        the number's cooldown end, which the code check read), and their
        profile: one statement (one round trip on PostgreSQL)."""
        size = self.get_profile.page_size(None)
        for _ in range(INVITE_CODE_DRAWS):
            async with self.unit_of_work(autocommit=True) as uow:
                found = await uow.users.get_or_add(
                    phone, generate_invite_code(), tag, size + 1, cooldown_until
                )
                await uow.commit()
            if found is not None:
                return found[0], profile_of(*found, size)
            # A concurrent login created this phone, or the invite code was
            # taken: the next round finds the user or draws a new code.
        raise RuntimeError("could not draw a free invite code")
