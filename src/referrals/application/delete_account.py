"""Deleting an account: by its owner in two steps, or by an operator (``docs/account.md``).

What stays: the row's id, invite code (retired: never drawn again, and
applying it answers "not found") and referral edges, so everyone's counts
stay true; in a referrer's list it shows as "deleted user". What goes: the
phone (and with it the events of the account that carried it) and every
session. The number's keyed hash is kept for ``Policy.reregister_cooldown``:
it may sign up again at once, as a new user, but applies no invite code
until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application import outbox
from referrals.application.errors import NotAuthenticated
from referrals.application.events import AccountDeleted, Hooks
from referrals.application.policy import Policy
from referrals.application.ports import (
    Clock,
    Cooldowns,
    EventSink,
    SessionStore,
    UnitOfWorkFactory,
)
from referrals.application.request_code import CodeRequest, CodeRequested, RequestCode
from referrals.application.step_up import CheckStepUp, purpose
from referrals.domain.codes import phone_alias
from referrals.domain.errors import ChallengeExpired
from referrals.domain.user import User

ACT = "delete"


@dataclass(frozen=True, slots=True)
class EraseAccount:
    """The deletion itself, whoever asked for it; the user as they were, or
    ``None`` when there was nothing (left) to delete."""

    policy: Policy
    unit_of_work: UnitOfWorkFactory
    sessions: SessionStore
    cooldowns: Cooldowns
    clock: Clock
    secret: bytes = field(repr=False)
    events: EventSink = field(default_factory=Hooks)

    async def __call__(self, user_id: int) -> User | None:
        now = self.clock.now()
        async with self.unit_of_work() as uow:
            user = await uow.users.erase(user_id)
            if user is None:
                return None
            deleted = AccountDeleted(at=now, user_id=user_id)
            outbox.stage(uow, [deleted])
            # The cooldown starts before the commit: a deletion never goes
            # without it (a failed commit leaves an extra cooldown only).
            alias = phone_alias(self.secret, user.phone)
            await self.cooldowns.start(alias, now + self.policy.reregister_cooldown, now)
            await uow.commit()
        await self.sessions.revoke_user(user_id, self.clock.now())
        await self.events.publish(deleted)
        return user


@dataclass(frozen=True, slots=True)
class RequestDeletion:
    """The first step: a code to the account's own number, answered as a login is."""

    unit_of_work: UnitOfWorkFactory
    request_code: RequestCode

    async def __call__(
        self, user_id: int, client_ip: str, language: str | None = None
    ) -> CodeRequested:
        async with self.unit_of_work(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None or user.erased:
            raise NotAuthenticated()
        bound = purpose(ACT, user_id)
        return await self.request_code(CodeRequest(user.phone, client_ip, language, bound))


@dataclass(frozen=True, slots=True)
class ConfirmDeletion:
    """The second step: the right code deletes the account (see :class:`EraseAccount`)."""

    check: CheckStepUp
    erase: EraseAccount

    async def __call__(self, user_id: int, token: str, code: str, client_ip: str) -> None:
        confirmed = await self.check(token, code, client_ip, purpose(ACT, user_id))
        erased = await self.erase(user_id)  # until it is done, the code still works
        if not await self.check.finish(confirmed) and erased is None:
            raise ChallengeExpired()  # another confirmation got there first
