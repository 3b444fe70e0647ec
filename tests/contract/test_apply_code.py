"""The apply_code contract (:mod:`referrals.testing.contracts.applying`) on every
adapter of the unit of work, given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import ApplyCodeContract


class TestApplyCodeContract(ApplyCodeContract):
    pass
