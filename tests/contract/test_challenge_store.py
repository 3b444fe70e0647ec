"""The ChallengeStore contract (:mod:`referrals.testing.contracts.challenges`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import ChallengeStoreContract


class TestChallengeStoreContract(ChallengeStoreContract):
    pass
