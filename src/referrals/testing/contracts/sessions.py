"""The SessionStore contract, for every adapter."""

from __future__ import annotations

import secrets

import pytest

from referrals.application.ports import SessionStore
from referrals.domain.device import SEEN_STEP, Device
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

    async def test_a_users_live_sessions_are_listed_soonest_to_expire_first(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        older, newer, theirs = a_session_id(), a_session_id(), a_session_id()
        await sessions.create(older, 42, clock.now() + TTL, clock.now())
        clock.advance(60)
        await sessions.create(newer, 42, clock.now() + TTL, clock.now())
        await sessions.create(theirs, 43, clock.now() + TTL, clock.now())
        listed = await sessions.of_user(42, clock.now())
        assert [(s.session_id, s.expires_at) for s in listed] == [
            (older, clock.now() - 60 + TTL),
            (newer, clock.now() + TTL),
        ]

    async def test_revoked_and_expired_sessions_are_not_listed(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        short, revoked, live = a_session_id(), a_session_id(), a_session_id()
        await sessions.create(short, 42, clock.now() + 60, clock.now())
        await sessions.create(revoked, 42, clock.now() + TTL, clock.now())
        await sessions.create(live, 42, clock.now() + TTL, clock.now())
        await sessions.revoke(revoked)
        clock.advance(60)
        assert [s.session_id for s in await sessions.of_user(42, clock.now())] == [live]

    async def test_a_user_without_sessions_has_none_listed(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        assert await sessions.of_user(42, clock.now()) == []

    async def test_revoking_a_user_ends_every_session_of_theirs_at_once(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        mine = [a_session_id() for _ in range(3)]
        theirs = a_session_id()
        for session_id in mine:
            await sessions.create(session_id, 42, clock.now() + TTL, clock.now())
        await sessions.create(theirs, 43, clock.now() + TTL, clock.now())
        assert await sessions.revoke_user(42, clock.now()) == 3
        for session_id in mine:
            assert await sessions.get(session_id, clock.now()) is None
        assert await sessions.of_user(42, clock.now()) == []
        assert await sessions.get(theirs, clock.now()) == 43

    async def test_revoking_a_user_counts_only_live_sessions(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        revoked, live = a_session_id(), a_session_id()
        await sessions.create(revoked, 42, clock.now() + TTL, clock.now())
        await sessions.create(live, 42, clock.now() + TTL, clock.now())
        await sessions.revoke(revoked)
        assert await sessions.revoke_user(42, clock.now()) == 1
        assert await sessions.revoke_user(42, clock.now()) == 0

    async def test_a_user_may_open_sessions_again_after_being_revoked(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        await sessions.create(a_session_id(), 42, clock.now() + TTL, clock.now())
        await sessions.revoke_user(42, clock.now())
        fresh = a_session_id()
        await sessions.create(fresh, 42, clock.now() + TTL, clock.now())
        assert await sessions.get(fresh, clock.now()) == 42
        assert [s.session_id for s in await sessions.of_user(42, clock.now())] == [fresh]

    async def test_a_listed_session_tells_when_and_where_it_was_opened(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        device = Device(address="203.0.113.0/24", user_agent="Mozilla/5.0 (X11; Linux) «ü»")
        opened = clock.now()
        await sessions.create(session_id, 42, opened + TTL, opened, device)
        [info] = await sessions.of_user(42, clock.now())
        assert (info.session_id, info.expires_at) == (session_id, opened + TTL)
        assert (info.created_at, info.last_seen, info.device) == (opened, opened, device)

    async def test_last_seen_moves_at_most_once_a_minute(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        opened = clock.now()
        await sessions.create(session_id, 42, opened + TTL, opened)
        clock.advance(SEEN_STEP - 1)
        assert await sessions.get(session_id, clock.now()) == 42
        [info] = await sessions.of_user(42, clock.now())
        assert info.last_seen == opened
        clock.advance(1)
        assert await sessions.get(session_id, clock.now()) == 42
        [info] = await sessions.of_user(42, clock.now())
        assert (info.created_at, info.last_seen) == (opened, opened + SEEN_STEP)

    async def test_a_session_used_after_a_minute_keeps_its_expiry_and_device(
        self, sessions: SessionStore, clock: FakeClock
    ) -> None:
        session_id = a_session_id()
        device = Device(address="2001:db8:1::/48", user_agent="curl/8.5")
        await sessions.create(session_id, 42, clock.now() + 600, clock.now(), device)
        clock.advance(SEEN_STEP * 2)
        assert await sessions.get(session_id, clock.now()) == 42
        [info] = await sessions.of_user(42, clock.now())
        assert (info.expires_at, info.device) == (clock.now() - SEEN_STEP * 2 + 600, device)
        clock.advance(600 - SEEN_STEP * 2)
        assert await sessions.get(session_id, clock.now()) is None
