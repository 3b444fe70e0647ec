"""The RateLimiter contract (:mod:`referrals.testing.contracts.rate_limiter`) on every adapter,
given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import RateLimiterContract


class TestRateLimiterContract(RateLimiterContract):
    pass
