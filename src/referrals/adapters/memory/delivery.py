"""The delivery ledger in a dict, and an SMS gateway that only records."""

from __future__ import annotations

from referrals.domain.messages import Claim, CodeDelivery, SmsMessage

CAPACITY = 10_000
"""Claims and sent marks one embedded process keeps (about 2.3 MB): the oldest go
first. As many as the in-process queue runs at once (its ``max_pending``)."""
SWEEP_EVERY = 1_000
"""Ended claims and marks are swept every so many claims."""


class InMemoryDeliveryLedger:
    """Bounded by design (docs/performance.md): ended holds are swept as codes
    are claimed, and at most ``capacity`` are kept, the oldest going first. A
    dropped mark could let a redelivered task send its code again; the
    in-process queue never redelivers, so a hold only matters while its
    delivery runs, and no more than ``capacity`` run at once."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        # challenge id -> (claimant, or None once sent; until when it holds)
        self._holds: dict[str, tuple[str | None, float]] = {}
        self._claims = 0

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"holds": len(self._holds)}

    def _hold(self, challenge_id: str, hold: tuple[str | None, float]) -> None:
        self._holds.pop(challenge_id, None)
        while len(self._holds) >= self._capacity:
            del self._holds[next(iter(self._holds))]
        self._holds[challenge_id] = hold

    async def claim(self, challenge_id: str, claimant: str, lease: float, now: float) -> Claim:
        self._claims += 1
        if self._claims % SWEEP_EVERY == 0:
            self._holds = {k: v for k, v in self._holds.items() if v[1] > now}
        held = self._holds.get(challenge_id)
        if held is not None and held[1] > now:
            return Claim.HELD if held[0] else Claim.SENT
        self._hold(challenge_id, (claimant, now + lease))
        return Claim.GRANTED

    async def mark_sent(self, challenge_id: str, keep_until: float, now: float) -> None:
        self._hold(challenge_id, (None, keep_until))

    async def release(self, challenge_id: str, claimant: str) -> None:
        held = self._holds.get(challenge_id)
        if held is not None and held[0] == claimant:  # its own lease, not a sent mark
            del self._holds[challenge_id]


SentSms = SmsMessage
"""What :class:`RecordingSmsGateway` keeps: the message as it was handed over."""


class RecordingSmsGateway:
    """Keeps every SMS it is given in :attr:`sent`: for tests and demos."""

    def __init__(self) -> None:
        self.sent: list[SentSms] = []

    async def send(self, message: SmsMessage) -> None:
        self.sent.append(message)


class RecordingCodeSender:
    """A :class:`~referrals.application.ports.CodeSender` that keeps deliveries
    in :attr:`queued` instead of queueing them; for tests of the API side."""

    def __init__(self) -> None:
        self.queued: list[CodeDelivery] = []

    async def send(self, delivery: CodeDelivery) -> None:
        self.queued.append(delivery)
