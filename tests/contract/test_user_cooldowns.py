"""The user row's cooldown contract (:mod:`referrals.testing.contracts.user_cooldowns`)
on every adapter of the unit of work, given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import UserCooldownContract


class TestUserCooldownContract(UserCooldownContract):
    pass
