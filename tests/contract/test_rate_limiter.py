"""The RateLimiter contract (:mod:`referrals.testing.contracts.rate_limiter`) on every adapter,
given by the parametrised fixture in conftest.py."""

import pytest

from referrals.application.ports import RateLimiter
from referrals.testing.contracts import RateLimiterContract


class TestRateLimiterContract(RateLimiterContract):
    @pytest.fixture(autouse=True)
    def _decides(self, limiter: RateLimiter, request: pytest.FixtureRequest) -> None:
        # On Redis Cluster every quota is decided by a script of its own.
        self.decides_all_at_once = "redis-cluster" not in request.node.callspec.id
