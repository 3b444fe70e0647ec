"""Users in dicts, with units of work that run one at a time.

A unit holds one lock from ``__aenter__`` to ``__aexit__``, so units are
serialised and never conflict; writes are journaled and undone on rollback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from referrals.adapters.memory.outbox import InMemoryOutbox, InMemoryOutboxRows
from referrals.application.applying import apply_in_steps
from referrals.application.errors import ConcurrencyConflict
from referrals.domain.codes import InviteCode
from referrals.domain.integrity import PENDING_REVIEW, Screening
from referrals.domain.logins import LoginRecord
from referrals.domain.phone import Phone
from referrals.domain.user import AppliedCode, Referral, Totals, User, erased_phone


class InMemoryUsers:
    """The shared state behind :class:`InMemoryUnitOfWork`; one per "database"."""

    def __init__(self) -> None:
        self.by_id: dict[int, User] = {}
        self.id_by_phone: dict[Phone, int] = {}
        self.id_by_code: dict[InviteCode, int] = {}
        self.referred: dict[int, list[int]] = {}  # referrer id -> ids, rank order
        self.created_at: dict[int, float] = {}  # for totals; the system clock, as SQL's now()
        self.referred_at: dict[int, float] = {}
        self.lock = asyncio.Lock()
        self.last_id = 0
        self.outbox = InMemoryOutboxRows()
        """The events committed units wrote (read by ``InMemoryDeliveries``)."""
        self.logins: list[LoginRecord] = []
        """The login history, in commit order."""

    def unit_of_work(
        self, *, read_only: bool = False, autocommit: bool = False
    ) -> InMemoryUnitOfWork:
        """A :class:`~referrals.application.ports.UnitOfWorkFactory` (every unit
        holds the lock and is undone unless committed, ``autocommit`` too)."""
        return InMemoryUnitOfWork(self)


class InMemoryUserRepository:
    def __init__(self, state: InMemoryUsers) -> None:
        self._state = state
        self.undo: list[tuple[int, User | None]] = []
        self.forgotten: list[int] = []
        """Users whose outbox events go when the unit commits."""

    def _save(self, user: User, previous: User | None) -> None:
        self.undo.append((user.id, previous))
        self._state.by_id[user.id] = user

    async def get(self, user_id: int) -> User | None:
        return self._state.by_id.get(user_id)

    async def get_by_phone(self, phone: Phone) -> User | None:
        user_id = self._state.id_by_phone.get(phone)
        return None if user_id is None else self._state.by_id[user_id]

    async def get_by_invite_code(self, code: InviteCode) -> User | None:
        user_id = self._state.id_by_code.get(code)
        return None if user_id is None else self._state.by_id[user_id]

    async def add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        cooldown_until: float | None = None,
    ) -> User | None:
        state = self._state
        if phone in state.id_by_phone or invite_code in state.id_by_code:
            return None
        state.last_id += 1
        user = User(
            id=state.last_id,
            phone=phone,
            invite_code=invite_code,
            created_by=created_by,
            cooldown_until=cooldown_until,
        )
        state.id_by_phone[phone] = user.id
        state.id_by_code[invite_code] = user.id
        state.created_at[user.id] = time.time()
        self._save(user, None)
        return user

    async def get_or_add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        limit: int,
        cooldown_until: float | None = None,
    ) -> tuple[User, list[Referral]] | None:
        user = await self.get_by_phone(phone)
        if user is None:
            user = await self.add(phone, invite_code, created_by, cooldown_until)
            return None if user is None else (user, [])
        return await self.profile(user.id, 0, limit)

    async def change_phone(
        self, user_id: int, phone: Phone, cooldown_until: float | None = None
    ) -> User | None:
        user = self._state.by_id.get(user_id)
        if user is None or user.erased or phone in self._state.id_by_phone:
            return None
        self._repoint(user, phone, cooldown_until)
        return user

    async def erase(self, user_id: int) -> User | None:
        user = self._state.by_id.get(user_id)
        if user is None or user.erased:
            return None
        self._repoint(user, erased_phone(user_id))
        self.forgotten.append(user_id)
        return user

    async def logins(self, user_id: int, since: float, limit: int) -> list[LoginRecord]:
        found = [x for x in self._state.logins if x.user_id == user_id and x.at >= since]
        found.sort(key=lambda x: x.at, reverse=True)
        return found[:limit]

    async def purge_logins(self, before: float, limit: int) -> int:
        # Not undone by a rollback: it deletes only what nobody may keep.
        logins = self._state.logins
        doomed = set(sorted((x.at, i) for i, x in enumerate(logins) if x.at < before)[:limit])
        kept = [x for i, x in enumerate(logins) if (x.at, i) not in doomed]
        self._state.logins = kept
        return len(logins) - len(kept)

    def _repoint(self, user: User, phone: Phone, cooldown_until: float | None = None) -> None:
        del self._state.id_by_phone[user.phone]
        self._state.id_by_phone[phone] = user.id
        moved = dataclasses.replace(user, phone=phone, created_by=None)
        self._save(dataclasses.replace(moved, cooldown_until=cooldown_until), user)

    def welcome(self, user_id: int) -> bool:
        """Clear ``created_by`` (at the unit's commit); whether this call did."""
        user = self._state.by_id.get(user_id)
        if user is None or user.created_by is None:
            return False
        self._state.by_id[user_id] = dataclasses.replace(user, created_by=None)
        return True

    async def apply_code(
        self,
        user_id: int,
        code: InviteCode,
        limit: int,
        screening: Screening | None = None,
        now: float | None = None,
    ) -> AppliedCode:
        return await apply_in_steps(self, user_id, code, limit, screening, now)

    async def lock(self, user_id: int) -> User | None:
        return await self.get(user_id)  # the unit's lock already excludes others

    async def referrers_of(self, user_id: int) -> list[int]:
        chain: list[int] = []
        referrer = self._state.by_id[user_id].referrer_id
        while referrer is not None:
            chain.append(referrer)
            referrer = self._state.by_id[referrer].referrer_id
        return chain

    async def set_referrer(
        self, user: User, referrer: User, *, signals: Sequence[str] = (), held: bool = False
    ) -> None:
        current = self._state.by_id[user.id]
        owner = self._state.by_id[referrer.id]
        if current.referrer_id is not None:
            raise ConcurrencyConflict()
        linked = dataclasses.replace(
            current,
            referrer_id=owner.id,
            used_invite_code=owner.invite_code,
            referral_status=PENDING_REVIEW if held else None,
            referral_signals=tuple(signals),
        )
        self._save(linked, current)
        if not held:  # a held one is counted and listed when approved
            self._count(linked)

    def _count(self, user: User) -> None:
        assert user.referrer_id is not None  # noqa: S101 (the callers set it)
        owner = self._state.by_id[user.referrer_id]
        self._save(dataclasses.replace(owner, referred_count=owner.referred_count + 1), owner)
        self._state.referred.setdefault(owner.id, []).append(user.id)
        self._state.referred_at[user.id] = time.time()

    async def shared_logins(
        self, user_id: int, code: InviteCode, network: str, device: str, since: float
    ) -> tuple[bool, bool]:
        owner = self._state.id_by_code.get(code)
        recent = [x for x in self._state.logins if x.at >= since]
        mine = [x for x in recent if x.user_id == user_id]
        theirs = [x for x in recent if x.user_id == owner]
        devices = {device, *(x.device for x in mine)} - {""}
        return (
            bool(network) and any(x.network == network for x in theirs),
            any(x.device in devices for x in theirs),
        )

    async def held_referrals(self, after: int, limit: int) -> list[User]:
        held = sorted(
            (u for u in self._state.by_id.values() if u.referral_held and u.id > after),
            key=lambda u: u.id,
        )
        return held[:limit]

    async def approve_referral(self, user_id: int) -> User | None:
        user = self._state.by_id.get(user_id)
        if user is None or user.referrer_id is None or not user.referral_held:
            return None
        approved = dataclasses.replace(user, referral_status=None)
        self._save(approved, user)
        self._count(approved)
        return user

    async def void_referral(self, user_id: int) -> User | None:
        user = self._state.by_id.get(user_id)
        if user is None or not user.referral_held:
            return None
        voided = dataclasses.replace(
            user, referrer_id=None, used_invite_code=None, referral_status=None, referral_signals=()
        )
        self._save(voided, user)
        return user

    async def profile(
        self, user_id: int, after_rank: int, limit: int
    ) -> tuple[User, list[Referral]] | None:
        user = self._state.by_id.get(user_id)
        if user is None:
            return None
        ids = self._state.referred.get(user_id, [])[after_rank : after_rank + limit]
        page = [
            Referral(rank=after_rank + i + 1, phone=self._state.by_id[referred].phone)
            for i, referred in enumerate(ids)
        ]
        return user, page

    async def chain_above(self, user_id: int) -> list[User]:
        user = self._state.by_id.get(user_id)
        if user is None:
            return []
        return [self._state.by_id[i] for i in await self.referrers_of(user_id)]

    async def totals(self, since: float, top: int) -> Totals:
        users = list(self._state.by_id.values())
        referred = [u for u in users if _listed(u)]
        ranked = sorted(
            (u for u in users if u.referred_count), key=lambda u: (-u.referred_count, u.id)
        )
        return Totals(
            users=len(users),
            users_since=sum(self._state.created_at[u.id] >= since for u in users),
            referrals=len(referred),
            referrals_since=sum(self._state.referred_at[u.id] >= since for u in referred),
            top_referrers=ranked[:top],
        )

    def rollback(self) -> None:
        state = self._state
        for user_id, previous in reversed(self.undo):
            current = state.by_id[user_id]
            if previous is None:
                del state.by_id[user_id]
                del state.id_by_phone[current.phone]
                del state.id_by_code[current.invite_code]
                continue
            if current.referrer_id is not None and _listed(current) and not _listed(previous):
                state.referred[current.referrer_id].remove(user_id)
            if current.phone != previous.phone:
                del state.id_by_phone[current.phone]
                state.id_by_phone[previous.phone] = user_id
            state.by_id[user_id] = previous
        self.undo.clear()
        self.forgotten.clear()


def _listed(user: User) -> bool:
    """Whether ``user`` is among their referrer's referrals (applied, not held)."""
    return user.referrer_id is not None and not user.referral_held


class InMemoryUnitOfWork:
    def __init__(self, state: InMemoryUsers) -> None:
        self._state = state
        self.users = InMemoryUserRepository(state)
        self.outbox = InMemoryOutbox()

    async def __aenter__(self) -> Self:
        await self._state.lock.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.users.rollback()
            self.outbox.take()
            self.outbox.take_logins()
            self.outbox.take_welcomes()
        finally:
            self._state.lock.release()

    async def commit(self) -> None:
        state = self._state
        for user_id, created in self.outbox.take_welcomes():  # user.created goes first
            if self.users.welcome(user_id) and created is not None:
                state.outbox.extend([created])
        state.outbox.forget(self.users.forgotten)
        state.outbox.extend(self.outbox.take())
        gone = set(self.users.forgotten)
        state.logins = [x for x in state.logins if x.user_id not in gone]
        state.logins += self.outbox.take_logins()
        self.users.undo.clear()
        self.users.forgotten.clear()
