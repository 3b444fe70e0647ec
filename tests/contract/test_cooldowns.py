"""The Cooldowns contract (:mod:`referrals.testing.contracts.cooldowns`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import CooldownsContract


class TestCooldownsContract(CooldownsContract):
    pass
