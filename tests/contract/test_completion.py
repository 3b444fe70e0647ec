"""The LoginCompletion contract (:mod:`referrals.testing.contracts.completion`)
on every adapter, given by the parametrised fixture in conftest.py: the
stepwise one on the in-memory stores, the one-round-trip one on Redis
(stepwise again on Redis Cluster)."""

from referrals.testing.contracts import LoginCompletionContract


class TestLoginCompletionContract(LoginCompletionContract):
    pass
