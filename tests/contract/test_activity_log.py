"""The ActivityLog contract (:mod:`referrals.testing.contracts.activity`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import ActivityLogContract


class TestActivityLogContract(ActivityLogContract):
    pass
