"""The SessionStore contract, for every adapter."""

from __future__ import annotations

import secrets

import pytest

from referrals.application.ports import SessionStore
from referrals.testing.clock import FakeClock

TTL = 30 * 86_400.0


def a_session_id() -> str:
    return secrets.token_hex(32)


class SessionStoreContract:
    """The SessionStore contract: subclass it and give a ``sessions`` fixture."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def test_a_created_session_gives_its_user(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        await sessions.create(session_id, 42, clock.now() + TTL, clock.now())
        assert await sessions.get(session_id, clock.now()) == 42

    async def test_an_unknown_session_gives_nobody(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        assert await sessions.get(a_session_id(), clock.now()) is None

    async def test_a_session_is_live_until_just_before_it_expires(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        await sessions.create(session_id, 42, clock.now() + TTL, clock.now())
        clock.advance(TTL - 0.001)
        assert await sessions.get(session_id, clock.now()) == 42

    async def test_a_session_expires_at_exactly_its_expiry_time(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        await sessions.create(session_id, 42, clock.now() + TTL, clock.now())
        clock.advance(TTL)
        assert await sessions.get(session_id, clock.now()) is None

    async def test_a_revoked_session_gives_nobody_at_once(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        await sessions.create(session_id, 42, clock.now() + TTL, clock.now())
        await sessions.revoke(session_id)
        assert await sessions.get(session_id, clock.now()) is None

    async def test_revoking_one_session_leaves_the_users_other_sessions(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        phone, laptop = a_session_id(), a_session_id()
        for session_id in (phone, laptop):
            await sessions.create(session_id, 42, clock.now() + TTL, clock.now())
        await sessions.revoke(phone)
        assert await sessions.get(laptop, clock.now()) == 42

    async def test_sessions_of_different_users_are_kept_apart(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        mine, theirs = a_session_id(), a_session_id()
        await sessions.create(mine, 1, clock.now() + TTL, clock.now())
        await sessions.create(theirs, 2, clock.now() + TTL, clock.now())
        assert await sessions.get(mine, clock.now()) == 1
        assert await sessions.get(theirs, clock.now()) == 2

    async def test_revoking_an_unknown_session_does_nothing(self, sessions: SessionStore) -> None:
        await sessions.revoke(a_session_id())
