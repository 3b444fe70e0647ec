"""Per-channel circuits in a dict: the embedded default's, and the tests' fake."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.domain.delivery import CircuitState, circuit_state


@dataclass(slots=True)
class _Circuit:
    failures: list[float] = field(default_factory=list)
    open_until: float | None = None
    """Set while open or half open: the end of the cool-down."""
    probe_until: float = 0.0


class InMemoryCircuitBreaker:
    """A :class:`~referrals.application.ports.CircuitBreaker` for one process."""

    def __init__(self, threshold: int, window: float, cooldown: float, probe_lease: float) -> None:
        self._threshold = threshold
        self._window = window
        self._cooldown = cooldown
        self._probe_lease = probe_lease
        self._circuits: dict[str, _Circuit] = {}

    def _state(self, circuit: _Circuit, now: float) -> CircuitState:
        return circuit_state(circuit.open_until, now)

    async def allows(self, channel: str, now: float) -> bool:
        circuit = self._circuits.setdefault(channel, _Circuit())
        state = self._state(circuit, now)
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN or now < circuit.probe_until:
            return False
        circuit.probe_until = now + self._probe_lease
        return True

    async def succeeded(self, channel: str, now: float) -> None:
        circuit = self._circuits.get(channel)
        if circuit is not None and self._state(circuit, now) is CircuitState.HALF_OPEN:
            del self._circuits[channel]

    async def failed(self, channel: str, now: float) -> CircuitState:
        circuit = self._circuits.setdefault(channel, _Circuit())
        state = self._state(circuit, now)
        if state is CircuitState.OPEN:
            return state
        circuit.failures = [t for t in circuit.failures if t > now - self._window] + [now]
        if state is CircuitState.HALF_OPEN or len(circuit.failures) >= self._threshold:
            self._circuits[channel] = _Circuit(open_until=now + self._cooldown)
            return CircuitState.OPEN
        return CircuitState.CLOSED

    async def state(self, channel: str, now: float) -> CircuitState:
        circuit = self._circuits.get(channel)
        return CircuitState.CLOSED if circuit is None else self._state(circuit, now)
