"""The ``code_burst`` counter (:mod:`referrals.testing.contracts.referral_burst`)
on every rate limiter, given by the parametrised fixture in conftest.py."""

from referrals.testing.contracts.referral_burst import ReferralBurstContract


class TestReferralBurstContract(ReferralBurstContract):
    pass
