"""Sliding-window rate limits kept as per-key logs of events, in process memory."""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from referrals.domain.limits import Quota, Refusal, Rule

SWEEP_EVERY = 10_000
"""Logs whose every event has left its windows are dropped every so many calls."""


class _Event(NamedTuple):
    at: float
    ticket: str
    client: str


_AT = attrgetter("at")


@dataclass(slots=True)
class _Log:
    events: list[_Event] = field(default_factory=list)
    """Oldest first."""
    keep: float = 0.0
    """The longest window of the quota that last used the log."""

    def trim(self, now: float) -> None:
        del self.events[: bisect.bisect_right(self.events, now - self.keep, key=_AT)]

    def wait(self, quota: Quota, rule: Rule, now: float) -> float | None:
        """Seconds until ``rule`` has room for one more event, or ``None`` if it has now."""
        count, window = rule.limit.count, rule.limit.window
        start = bisect.bisect_right(self.events, now - window, key=_AT)
        if rule.per_client:
            times = [e.at for e in self.events[start:] if e.client == quota.client]
            oldest = times[-count] if len(times) >= count else None
        else:
            oldest = self.events[-count].at if len(self.events) - start >= count else None
        return None if oldest is None else oldest + window - now


class InMemoryRateLimiter:
    """Every quota of an acquisition is checked and recorded without an
    ``await`` in between, so an acquisition is one atomic step for all its
    quotas: bursts can never exceed a rule, and a refusal records nothing.

    Counting an all-clients rule is a binary search, so a large quota (a
    global ceiling of thousands of codes an hour) costs little; per-client
    rules scan their window's events, like the Redis adapter's.
    """

    def __init__(self) -> None:
        self._logs: dict[str, _Log] = {}
        self._calls = 0

    def _log(self, quota: Quota, now: float) -> _Log:
        log = self._logs.get(quota.key)
        if log is None:
            log = self._logs[quota.key] = _Log()
        log.keep = quota.longest_window
        log.trim(now)
        return log

    def _sweep(self, now: float) -> None:
        for key in [
            k
            for k, log in self._logs.items()
            if not log.events or log.events[-1].at <= now - log.keep
        ]:
            del self._logs[key]

    async def acquire(
        self, quotas: Sequence[Quota], now: float, ticket: str | None = None
    ) -> Refusal | None:
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            self._sweep(now)
        logs = [self._log(quota, now) for quota in quotas]
        refusal: Refusal | None = None
        for quota, log in zip(quotas, logs, strict=True):
            for rule in quota.rules:
                wait = log.wait(quota, rule, now)
                if wait is not None and (refusal is None or wait > refusal.retry_after):
                    refusal = Refusal(quota, rule, wait)
        if refusal is not None:
            return refusal
        event_ticket = ticket or secrets.token_hex(8)
        for quota, log in zip(quotas, logs, strict=True):
            if quota.count:
                bisect.insort_right(log.events, _Event(now, event_ticket, quota.client), key=_AT)
        return None

    async def refund(self, quotas: Sequence[Quota], ticket: str) -> None:
        for quota in quotas:
            log = self._logs.get(quota.key)
            if log is not None:
                log.events = [e for e in log.events if e.ticket != ticket]

    async def reset(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._logs.pop(key, None)
