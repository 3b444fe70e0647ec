"""The Deliveries contract (:mod:`referrals.testing.contracts.deliveries`) on every
adapter, given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import DeliveriesContract


class TestDeliveriesContract(DeliveriesContract):
    pass
