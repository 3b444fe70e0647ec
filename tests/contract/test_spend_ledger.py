"""The SpendLedger contract (:mod:`referrals.testing.contracts.spend`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import SpendLedgerContract


class TestSpendLedgerContract(SpendLedgerContract):
    pass
