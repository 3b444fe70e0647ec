"""The CircuitBreaker contract (:mod:`referrals.testing.contracts`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import CircuitBreakerContract


class TestCircuitBreakerContract(CircuitBreakerContract):
    pass
