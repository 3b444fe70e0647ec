"""The SendGate contract (:mod:`referrals.testing.contracts.send_gate`) on every
adapter, given by the parametrised fixture in conftest.py: the in-memory
stores under the stepped gate, Redis (one script) and Redis Cluster (a script
per slot)."""

import pytest

from referrals.testing.contracts import GateParts, SendGateContract


class TestSendGateContract(SendGateContract):
    @pytest.fixture(autouse=True)
    def _decides(self, gate: GateParts, request: pytest.FixtureRequest) -> None:
        # On Redis Cluster every quota, group and the spend is decided on its own.
        self.decides_all_at_once = "redis-cluster" not in request.node.callspec.id
