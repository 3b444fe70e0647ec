"""The ``code_burst`` counter of referral integrity (docs/rules.md) on a
``RateLimiter``: applications of one code per client network, counted in
the acquisition that charges the unknown-code quota."""

from __future__ import annotations

import pytest

from referrals.application import rate_limits
from referrals.application.errors import TooManyAttempts
from referrals.application.integrity import Signals
from referrals.application.policy import Policy
from referrals.application.ports import RateLimiter
from referrals.domain.codes import InviteCode
from referrals.domain.integrity import CODE_BURST
from referrals.domain.limits import Limit

NOW = 1_000_000.0
CODE = InviteCode("ABC234")
APART = (
    (CODE, "5.1.2.3"),
    (CODE, "5.1.2.4"),  # the same /24: two is the limit
    (InviteCode("XYZ789"), "5.1.2.5"),
    (CODE, "46.1.1.1"),
    (CODE, "2001:4860:1:1::1"),
    (CODE, "2001:4860:1:2::1"),  # the same /56
)
POLICY = Policy(referral_burst=Limit(2, 3_600.0), apply_failure=Limit(3, 3_600.0))


def signals(limiter: RateLimiter) -> Signals:
    return Signals(POLICY, limiter, b"k" * 32)


class ReferralBurstContract:
    """Subclass it and give a ``limiter`` fixture (an empty store)."""

    pytestmark = pytest.mark.asyncio

    async def test_a_code_from_one_network_is_flagged_past_the_limit(
        self, limiter: RateLimiter
    ) -> None:
        charge = signals(limiter).charge
        fired = [
            await charge(
                rate_limits.apply_failures(POLICY, user), CODE, f"5.1.2.{user}", NOW, f"t{user}"
            )
            for user in range(4)
        ]

        assert fired == [(), (), (CODE_BURST,), (CODE_BURST,)]

    async def test_other_networks_and_other_codes_are_counted_apart(
        self, limiter: RateLimiter
    ) -> None:
        charge = signals(limiter).charge
        for user, (code, address) in enumerate(APART):
            failures = rate_limits.apply_failures(POLICY, user)
            assert await charge(failures, code, address, NOW, f"t{user}") == ()
        # The IPv6 network of 56 bits had two already.
        failures = rate_limits.apply_failures(POLICY, 99)
        assert await charge(failures, CODE, "2001:4860:1:3::1", NOW, "t99") == (CODE_BURST,)

    async def test_a_burst_still_charges_the_unknown_code_quota_once(
        self, limiter: RateLimiter
    ) -> None:
        charge = signals(limiter).charge
        failures = rate_limits.apply_failures(POLICY, 7)
        for i in range(2):
            await charge(rate_limits.apply_failures(POLICY, i), CODE, "5.1.2.3", NOW, f"o{i}")
        for i in range(3):
            assert await charge(failures, CODE, "5.1.2.3", NOW, f"t{i}") == (CODE_BURST,)

        with pytest.raises(TooManyAttempts):
            await charge(failures, CODE, "5.1.2.3", NOW, "t3")

    async def test_the_burst_frees_up_with_its_window(self, limiter: RateLimiter) -> None:
        charge = signals(limiter).charge
        for i in range(3):
            await charge(rate_limits.apply_failures(POLICY, i), CODE, "5.1.2.3", NOW, f"t{i}")

        later = NOW + 3_600.0
        failures = rate_limits.apply_failures(POLICY, 9)
        assert await charge(failures, CODE, "5.1.2.3", later, "t9") == ()
