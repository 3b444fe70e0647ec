"""The CodeCheck contract (:mod:`referrals.testing.contracts.code_check`) on
every adapter, given by the parametrised fixture in conftest.py: the
stepwise one on the in-memory stores, the one-script one on Redis."""

import pytest

from referrals.adapters.redis import RedisCooldowns
from referrals.domain.challenge import Attempt, AttemptResult
from referrals.domain.codes import alias_of
from referrals.testing.clock import FakeClock
from referrals.testing.contracts import CodeCheckContract
from referrals.testing.contracts.challenges import PHONE, RIGHT, a_challenge
from referrals.testing.contracts.code_check import CodeCheckStores, address_quota, phone_quota


class TestCodeCheckContract(CodeCheckContract):
    pass


async def test_redis_reads_a_cooldown_kept_under_its_older_name(
    code_check_stores: CodeCheckStores,
) -> None:
    """A cooldown an older release started (``cooldown:{alias}``, no hash
    tag) still counts during the rolling upgrade (docs/changelog.md)."""
    cooldowns = code_check_stores.cooldowns
    if not isinstance(cooldowns, RedisCooldowns):
        pytest.skip("the older name is Redis's")
    clock = FakeClock()
    challenge = a_challenge(clock, PHONE, max_attempts=10)
    await code_check_stores.challenges.put(challenge, clock.now())
    until = clock.now() + 86_400.0
    await cooldowns.client.set(cooldowns.legacy_key(alias_of(challenge.id)), repr(until), ex=600)
    address, phone = address_quota(), phone_quota(challenge)
    outcome = await code_check_stores.check.check(
        challenge.id, RIGHT, clock.now(), address=[address], phone=[phone], ticket="t"
    )
    assert outcome == Attempt(AttemptResult.ACCEPTED, PHONE, cooldown_until=until)
