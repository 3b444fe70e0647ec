"""The CircuitBreaker contract, for every adapter."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from referrals.application.ports import CircuitBreaker
from referrals.domain.delivery import CircuitState
from referrals.testing.clock import FakeClock

THRESHOLD = 3
"""Failures within :data:`WINDOW` that open a circuit: build the adapter with these."""
WINDOW = 60.0
COOLDOWN = 30.0
PROBE_LEASE = 10.0


def a_channel() -> str:
    return f"channel-{secrets.token_hex(4)}"


class CircuitBreakerContract:
    """Subclass it and give a ``circuit`` fixture built with :data:`THRESHOLD`,
    :data:`WINDOW`, :data:`COOLDOWN` and :data:`PROBE_LEASE`."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    async def _open(self, circuit: CircuitBreaker, channel: str, clock: FakeClock) -> None:
        for _ in range(THRESHOLD):
            await circuit.failed(channel, clock.now())

    async def test_a_new_circuit_is_closed_and_lets_attempts_through(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        assert await circuit.state(channel, clock.now()) is CircuitState.CLOSED
        assert await circuit.allows(channel, clock.now())
        assert await circuit.allows(channel, clock.now())

    async def test_fewer_failures_than_the_threshold_keep_it_closed(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        for _ in range(THRESHOLD - 1):
            assert await circuit.failed(channel, clock.now()) is CircuitState.CLOSED
        assert await circuit.allows(channel, clock.now())

    async def test_the_thresholds_failure_opens_it_and_no_attempt_passes(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        for _ in range(THRESHOLD - 1):
            await circuit.failed(channel, clock.now())
        assert await circuit.failed(channel, clock.now()) is CircuitState.OPEN
        assert await circuit.state(channel, clock.now()) is CircuitState.OPEN
        assert not await circuit.allows(channel, clock.now())
        clock.advance(COOLDOWN - 0.001)
        assert not await circuit.allows(channel, clock.now())

    async def test_failures_outside_the_window_do_not_count(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        for _ in range(THRESHOLD - 1):
            await circuit.failed(channel, clock.now())
        clock.advance(WINDOW)
        assert await circuit.failed(channel, clock.now()) is CircuitState.CLOSED
        assert await circuit.allows(channel, clock.now())

    async def test_circuits_of_different_channels_are_independent(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel, other = a_channel(), a_channel()
        await self._open(circuit, channel, clock)
        assert await circuit.allows(other, clock.now())
        assert await circuit.state(other, clock.now()) is CircuitState.CLOSED

    async def test_after_the_cooldown_one_probe_passes_at_a_time(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        await self._open(circuit, channel, clock)
        clock.advance(COOLDOWN)
        assert await circuit.state(channel, clock.now()) is CircuitState.HALF_OPEN
        passed = await asyncio.gather(*(circuit.allows(channel, clock.now()) for _ in range(10)))
        assert passed.count(True) == 1

    async def test_a_probe_that_never_reports_back_lets_another_probe_after_its_lease(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        await self._open(circuit, channel, clock)
        clock.advance(COOLDOWN)
        assert await circuit.allows(channel, clock.now())
        clock.advance(PROBE_LEASE)
        assert await circuit.allows(channel, clock.now())

    async def test_a_successful_probe_closes_the_circuit(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        await self._open(circuit, channel, clock)
        clock.advance(COOLDOWN)
        assert await circuit.allows(channel, clock.now())
        await circuit.succeeded(channel, clock.now())
        assert await circuit.state(channel, clock.now()) is CircuitState.CLOSED
        assert await circuit.allows(channel, clock.now())
        assert await circuit.allows(channel, clock.now())
        for _ in range(THRESHOLD - 1):  # the old failures are forgotten
            assert await circuit.failed(channel, clock.now()) is CircuitState.CLOSED

    async def test_a_failed_probe_opens_it_for_another_cooldown(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        await self._open(circuit, channel, clock)
        clock.advance(COOLDOWN)
        assert await circuit.allows(channel, clock.now())
        assert await circuit.failed(channel, clock.now()) is CircuitState.OPEN
        assert not await circuit.allows(channel, clock.now())
        clock.advance(COOLDOWN)
        assert await circuit.allows(channel, clock.now())

    async def test_a_late_success_does_not_close_an_open_circuit(
        self, circuit: CircuitBreaker, clock: FakeClock
    ) -> None:
        channel = a_channel()
        await self._open(circuit, channel, clock)
        await circuit.succeeded(channel, clock.now())  # an attempt that began before it opened
        assert await circuit.state(channel, clock.now()) is CircuitState.OPEN
