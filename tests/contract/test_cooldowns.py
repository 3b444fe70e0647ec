"""The Cooldowns contract (:mod:`referrals.testing.contracts.cooldowns`) on every adapter,
given by the parametrised fixture in conftest.py."""

import secrets

import pytest

from referrals.adapters.redis import RedisCooldowns
from referrals.application.ports import Cooldowns
from referrals.testing.contracts import CooldownsContract


class TestCooldownsContract(CooldownsContract):
    pass


async def test_redis_keeps_a_cooldown_under_both_names_for_one_release(
    cooldowns: Cooldowns,
) -> None:
    """Older processes of a rolling upgrade read ``cooldown:{alias}``; this
    release reads the older name too (docs/changelog.md)."""
    if not isinstance(cooldowns, RedisCooldowns):
        pytest.skip("the older name is Redis's")
    now, alias, older = 1_000.0, secrets.token_hex(16), secrets.token_hex(16)
    await cooldowns.start(alias, now + 60, now)
    assert float(await cooldowns.client.get(cooldowns.legacy_key(alias))) == now + 60
    assert float(await cooldowns.client.get(cooldowns.key(alias))) == now + 60
    await cooldowns.client.set(cooldowns.legacy_key(older), repr(now + 90), ex=600)
    assert await cooldowns.ends(older, now) == now + 90
