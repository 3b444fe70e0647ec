"""Challenges in a dict. Each method runs without awaiting, so it is atomic.

Bounded by design (docs/performance.md): a phone has one live challenge,
expired ones are swept as challenges are put, and at most ``capacity`` are
kept: past it the oldest goes, and its code no longer opens anything (the
person asks for a new one).
"""

from __future__ import annotations

import dataclasses

from referrals.domain.challenge import Attempt, AttemptResult, Challenge
from referrals.domain.codes import digests_match

CAPACITY = 100_000
"""Live challenges one embedded process keeps (about 48 MB): the oldest go first."""
SWEEP_EVERY = 1_000
"""Expired challenges are swept every so many puts."""


@dataclasses.dataclass(slots=True)
class _Entry:
    challenge: Challenge
    failures: int = 0


class InMemoryChallengeStore:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._entries: dict[str, _Entry] = {}
        self._latest: dict[str, str] = {}  # phone -> id of its live challenge
        self._puts = 0

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"challenges": len(self._entries), "phones": len(self._latest)}

    def _live(self, challenge_id: str, now: float) -> _Entry | None:
        entry = self._entries.get(challenge_id)
        if entry is None:
            return None
        challenge = entry.challenge
        if challenge.expires_at <= now or self._latest.get(challenge.phone) != challenge_id:
            self._drop(challenge_id)
            return None
        return entry

    def _drop(self, challenge_id: str) -> None:
        entry = self._entries.pop(challenge_id, None)
        if entry and self._latest.get(entry.challenge.phone) == challenge_id:
            del self._latest[entry.challenge.phone]

    def _sweep(self, now: float) -> None:
        for challenge_id in [i for i, e in self._entries.items() if e.challenge.expires_at <= now]:
            self._drop(challenge_id)

    async def put(self, challenge: Challenge, now: float) -> None:
        self._puts += 1
        if self._puts % SWEEP_EVERY == 0:
            self._sweep(now)
        previous = self._latest.get(challenge.phone)
        if previous is not None:
            self._entries.pop(previous, None)
        while len(self._entries) >= self._capacity:
            self._drop(next(iter(self._entries)))
        self._entries[challenge.id] = _Entry(challenge)
        self._latest[challenge.phone] = challenge.id

    async def get(self, challenge_id: str, now: float) -> Challenge | None:
        entry = self._live(challenge_id, now)
        return entry.challenge if entry else None

    async def attempt(self, challenge_id: str, code_digest: str, now: float) -> Attempt:
        entry = self._live(challenge_id, now)
        if entry is None:
            return Attempt(AttemptResult.GONE)
        challenge = entry.challenge
        if digests_match(challenge.code_digest, code_digest):
            return Attempt(AttemptResult.ACCEPTED, challenge.phone)
        entry.failures += 1
        left = challenge.max_attempts - entry.failures
        if left <= 0:
            self._drop(challenge_id)
        return Attempt(AttemptResult.WRONG, challenge.phone, max(left, 0))

    async def consume(self, challenge_id: str, now: float) -> bool:
        if self._live(challenge_id, now) is None:
            return False
        self._drop(challenge_id)
        return True

    async def discard(self, challenge_id: str) -> None:
        self._drop(challenge_id)
