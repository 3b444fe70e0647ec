"""The held referrals contract (:mod:`referrals.testing.contracts.referral_review`)
on every adapter of the unit of work, given by the fixture in conftest.py."""

from referrals.testing.contracts import ReferralReviewContract


class TestReferralReviewContract(ReferralReviewContract):
    pass
