"""The login history contract (:mod:`referrals.testing.contracts.login_history`)
on every adapter of the unit of work, given by the fixture in conftest.py."""

from referrals.testing.contracts import LoginHistoryContract


class TestLoginHistoryContract(LoginHistoryContract):
    pass
