"""The ConversionLog contract (:mod:`referrals.testing.contracts.conversion`) on every
adapter, given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts import ConversionLogContract


class TestConversionLogContract(ConversionLogContract):
    pass
