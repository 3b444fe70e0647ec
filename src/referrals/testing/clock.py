"""A clock that tests move by hand."""

from __future__ import annotations


class FakeClock:
    """A :class:`~referrals.application.ports.Clock` that stands still until
    :meth:`advance` is called, so expiries and rate-limit windows can be
    crossed in a test without waiting."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
