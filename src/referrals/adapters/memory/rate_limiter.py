"""Sliding-window rate limits kept as per-key logs of events, in process memory.

Bounded by design (docs/performance.md): a log holds only events still inside
its quota's longest window (trimmed at each use, swept now and then), a
quota that is only checked creates no log, a log a refund empties is
dropped, and an event is a plain ``(at, hash of the ticket, client)`` tuple
with shared strings. Logs of forgettable quotas (``Quota.forgettable``:
forgetting them is stricter, never looser) are at most
``forgettable_capacity``, the oldest going first, and first to go when the
limiter is full. All logs are at most ``capacity``. A limit must never be
escaped, so when it is full, ended logs are swept, then forgettable ones
go; if none is left, an acquisition that needs a new log is refused as
:class:`ServiceUnavailable` (503) rather than forgetting what another key
has counted.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from referrals.application.errors import ServiceUnavailable
from referrals.domain.limits import Quota, Refusal, Rule

CAPACITY = 200_000
"""Logs (keys) one embedded process keeps, about 70 MB at most."""
FORGETTABLE_CAPACITY = 20_000
"""Logs of forgettable quotas (the phones' usual networks) kept, about 7 MB."""
SWEEP_EVERY = 10_000
"""Logs whose every event has left its windows are dropped every so many calls."""

_Event = tuple[float, int | None, str]
"""When, the hash of the ticket a refund names (``None``: none can), and the client.
Two tickets of one log with one 64-bit hash are as unlikely as guessing a key."""
_AT = itemgetter(0)


@dataclass(slots=True)
class _Log:
    events: list[_Event] = field(default_factory=list)
    """Oldest first."""
    keep: float = 0.0
    """The longest window of the quota that last used the log."""

    @property
    def ends(self) -> float:
        """When its last event leaves the longest window (an empty log has ended)."""
        return self.events[-1][0] + self.keep if self.events else 0.0

    def trim(self, now: float) -> None:
        del self.events[: bisect.bisect_right(self.events, now - self.keep, key=_AT)]

    def wait(self, quota: Quota, rule: Rule, now: float) -> float | None:
        """Seconds until ``rule`` has room for one more event, or ``None`` if it has now."""
        count, window = rule.limit.count, rule.limit.window
        start = bisect.bisect_right(self.events, now - window, key=_AT)
        if rule.per_client:
            times = [e[0] for e in self.events[start:] if e[2] == quota.client]
            oldest = times[-count] if len(times) >= count else None
        else:
            oldest = self.events[-count][0] if len(self.events) - start >= count else None
        return None if oldest is None else oldest + window - now


_EMPTY = _Log()
"""What a quota with no log is checked against (never written to)."""


class InMemoryRateLimiter:
    """Every quota of an acquisition is checked and recorded without an
    ``await`` in between, so an acquisition is one atomic step for all its
    quotas: bursts can never exceed a rule, and a refusal records nothing.

    Counting an all-clients rule is a binary search, so a large quota (a
    global ceiling of thousands of codes an hour) costs little; per-client
    rules scan their window's events, like the Redis adapter's.
    """

    def __init__(
        self, capacity: int = CAPACITY, forgettable_capacity: int = FORGETTABLE_CAPACITY
    ) -> None:
        self._capacity = capacity
        self._forgettable_capacity = forgettable_capacity
        self._logs: dict[str, _Log] = {}
        self._forgettable: dict[str, None] = {}
        """Keys of forgettable quotas' logs, oldest first (some may be gone already)."""
        self._calls = 0
        self._next_end = 0.0
        """When full: the earliest time a log ends, before which sweeping frees nothing."""

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"logs": len(self._logs), "events": sum(len(g.events) for g in self._logs.values())}

    def _log(self, quota: Quota, now: float) -> _Log:
        log = self._logs.get(quota.key)
        if log is None:
            if not quota.count:
                return _EMPTY
            self._make_room(now)
            if quota.forgettable:
                while len(self._forgettable) >= self._forgettable_capacity:
                    self._forget_oldest()
                self._forgettable[quota.key] = None
            log = self._logs[quota.key] = _Log()
        log.keep = quota.longest_window
        log.trim(now)
        return log

    def _make_room(self, now: float) -> None:
        if len(self._logs) < self._capacity:
            return
        if now >= self._next_end:
            self._sweep(now)
        while len(self._logs) >= self._capacity and self._forgettable:
            self._forget_oldest()
        if len(self._logs) >= self._capacity:
            self._next_end = min(log.ends for log in self._logs.values())
            raise ServiceUnavailable("the in-process rate limiter (full)")

    def _forget_oldest(self) -> None:
        oldest = next(iter(self._forgettable))
        del self._forgettable[oldest]
        self._logs.pop(oldest, None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, log in self._logs.items() if log.ends <= now]:
            del self._logs[key]
        self._forgettable = {k: None for k in self._forgettable if k in self._logs}

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
        for quota, log in zip(quotas, logs, strict=True):
            if quota.count:
                event = (now, hash(ticket) if ticket else None, sys.intern(quota.client))
                bisect.insort_right(log.events, event, key=_AT)
        return None

    async def refund(self, quotas: Sequence[Quota], ticket: str) -> None:
        named = hash(ticket)
        for quota in quotas:
            log = self._logs.get(quota.key)
            if log is not None:
                log.events = [e for e in log.events if e[1] != named]
                if not log.events:
                    del self._logs[quota.key]

    async def reset(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._logs.pop(key, None)
