"""The Cooldowns contract, for every adapter."""

from __future__ import annotations

import secrets

import pytest

from referrals.application.ports import Cooldowns
from referrals.testing.clock import FakeClock

DAYS_30 = 30 * 86_400.0


def an_alias() -> str:
    return secrets.token_hex(16)


class CooldownsContract:
    """The Cooldowns contract: subclass it and give a ``cooldowns`` fixture."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def test_a_started_cooldown_runs_until_just_before_its_end(
        self, cooldowns: Cooldowns, clock: FakeClock
    ) -> None:
        alias, ends = an_alias(), clock.now() + DAYS_30
        await cooldowns.start(alias, ends, clock.now())
        assert await cooldowns.ends(alias, clock.now()) == ends
        clock.advance(DAYS_30 - 0.001)
        assert await cooldowns.ends(alias, clock.now()) == ends
        clock.advance(0.001)
        assert await cooldowns.ends(alias, clock.now()) is None

    async def test_a_number_never_deleted_has_no_cooldown(
        self, cooldowns: Cooldowns, clock: FakeClock
    ) -> None:
        await cooldowns.start(an_alias(), clock.now() + DAYS_30, clock.now())
        assert await cooldowns.ends(an_alias(), clock.now()) is None

    async def test_a_second_deletion_ends_at_the_later_time(
        self, cooldowns: Cooldowns, clock: FakeClock
    ) -> None:
        alias = an_alias()
        await cooldowns.start(alias, clock.now() + DAYS_30, clock.now())
        await cooldowns.start(alias, clock.now() + 60, clock.now())
        assert await cooldowns.ends(alias, clock.now()) == clock.now() + DAYS_30
        await cooldowns.start(alias, clock.now() + 2 * DAYS_30, clock.now())
        assert await cooldowns.ends(alias, clock.now()) == clock.now() + 2 * DAYS_30
