"""The CodeCheck contract (:mod:`referrals.testing.contracts.code_check`) on
every adapter, given by the parametrised fixture in conftest.py: the
stepwise one on the in-memory stores, the one-script one on Redis."""

from referrals.testing.contracts import CodeCheckContract


class TestCodeCheckContract(CodeCheckContract):
    pass
