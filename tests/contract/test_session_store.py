"""The SessionStore contract (:mod:`referrals.testing.contracts.sessions`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import SessionStoreContract


class TestSessionStoreContract(SessionStoreContract):
    pass
