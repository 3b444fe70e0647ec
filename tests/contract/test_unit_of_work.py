"""The UnitOfWork contract (:mod:`referrals.testing.contracts.unit_of_work`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import UnitOfWorkContract


class TestUnitOfWorkContract(UnitOfWorkContract):
    pass
