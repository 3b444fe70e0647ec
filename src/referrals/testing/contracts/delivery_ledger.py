"""The DeliveryLedger contract, for every adapter."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from referrals.application.ports import DeliveryLedger
from referrals.domain.messages import Claim
from referrals.testing.clock import FakeClock

LEASE = 30.0
KEEP = 300.0
WORKER = "worker-1"


def a_challenge_id() -> str:
    return secrets.token_hex(32)


class DeliveryLedgerContract:
    """The DeliveryLedger contract: subclass it and give a ``delivery_ledger`` fixture."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def test_a_code_is_claimed_once(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now()) is Claim.GRANTED
        )
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )

    async def test_claims_of_different_codes_are_independent(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        assert (
            await delivery_ledger.claim(a_challenge_id(), WORKER, LEASE, clock.now())
            is Claim.GRANTED
        )
        assert (
            await delivery_ledger.claim(a_challenge_id(), WORKER, LEASE, clock.now())
            is Claim.GRANTED
        )

    async def test_of_twenty_concurrent_claims_exactly_one_wins(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        wins = await asyncio.gather(
            *(
                delivery_ledger.claim(challenge_id, f"worker-{i}", LEASE, clock.now())
                for i in range(20)
            )
        )
        assert wins.count(Claim.GRANTED) == 1
        assert wins.count(Claim.HELD) == 19

    async def test_a_claim_holds_until_just_before_its_lease_ends(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
        clock.advance(LEASE - 0.001)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )

    async def test_an_expired_lease_lets_another_worker_claim(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
        clock.advance(LEASE)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now()) is Claim.GRANTED
        )
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )

    async def test_a_sent_code_cannot_be_claimed_until_keep_until(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        keep_until = clock.now() + KEEP
        await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
        await delivery_ledger.mark_sent(challenge_id, keep_until, clock.now())
        clock.advance(LEASE)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )
        clock.advance(KEEP - LEASE - 0.001)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )
        clock.advance(0.001)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now()) is Claim.GRANTED
        )

    async def test_a_sent_mark_without_a_claim_still_blocks_claims(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.mark_sent(challenge_id, clock.now() + KEEP, clock.now())
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )

    async def test_a_released_claim_can_be_claimed_again(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
        await delivery_ledger.release(challenge_id, WORKER)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now()) is Claim.GRANTED
        )

    async def test_releasing_an_unclaimed_code_does_nothing(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.release(challenge_id, WORKER)
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now()) is Claim.GRANTED
        )

    async def test_a_release_does_not_erase_a_sent_mark(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
        await delivery_ledger.mark_sent(challenge_id, clock.now() + KEEP, clock.now())
        await delivery_ledger.release(
            challenge_id, WORKER
        )  # a late failure report, e.g. of a timed-out worker
        assert (
            await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
            is not Claim.GRANTED
        )

    async def test_a_worker_whose_lease_ran_out_cannot_release_its_successors_claim(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.claim(challenge_id, "slow", LEASE, clock.now())
        clock.advance(LEASE)
        assert (
            await delivery_ledger.claim(challenge_id, "successor", LEASE, clock.now())
            is Claim.GRANTED
        )
        await delivery_ledger.release(challenge_id, "slow")
        assert (
            await delivery_ledger.claim(challenge_id, "third", LEASE, clock.now())
            is not Claim.GRANTED
        )

    async def test_a_claim_tells_a_sent_code_from_one_being_sent(
        self, delivery_ledger: DeliveryLedger, clock: FakeClock
    ) -> None:
        challenge_id = a_challenge_id()
        await delivery_ledger.claim(challenge_id, WORKER, LEASE, clock.now())
        assert await delivery_ledger.claim(challenge_id, "other", LEASE, clock.now()) is Claim.HELD
        await delivery_ledger.mark_sent(challenge_id, clock.now() + KEEP, clock.now())
        assert await delivery_ledger.claim(challenge_id, "other", LEASE, clock.now()) is Claim.SENT
