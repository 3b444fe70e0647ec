"""Sliding-window rate limits kept as per-key logs of event times."""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Sequence

from referrals.application.ports import Quota, Refusal

SWEEP_EVERY = 10_000
"""Empty logs are dropped every so many calls, so memory stays bounded."""


class InMemoryRateLimiter:
    def __init__(self) -> None:
        self._logs: dict[str, deque[tuple[float, str]]] = {}
        self._calls = 0

    def _events(self, quota: Quota, now: float) -> deque[tuple[float, str]]:
        log = self._logs.setdefault(quota.key, deque())
        while log and log[0][0] <= now - quota.limit.window:
            log.popleft()
        return log

    async def acquire(
        self, quotas: Sequence[Quota], now: float, ticket: str | None = None
    ) -> Refusal | None:
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            self._logs = {k: v for k, v in self._logs.items() if v}
        refusal: Refusal | None = None
        for quota in quotas:
            log = self._events(quota, now)
            if len(log) >= quota.limit.count:
                oldest = log[-quota.limit.count][0]
                wait = oldest + quota.limit.window - now
                if refusal is None or wait > refusal.retry_after:
                    refusal = Refusal(quota, wait)
        if refusal is not None:
            return refusal
        name = ticket or secrets.token_hex(8)
        for quota in quotas:
            if quota.count:
                self._logs[quota.key].append((now, name))
        return None

    async def refund(self, quotas: Sequence[Quota], ticket: str) -> None:
        for quota in quotas:
            log = self._logs.get(quota.key)
            if log:
                self._logs[quota.key] = deque(e for e in log if e[1] != ticket)
