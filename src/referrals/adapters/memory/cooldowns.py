"""Cooldowns of deleted accounts' numbers in a dict (docs/account.md)."""

from __future__ import annotations


class InMemoryCooldowns:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def start(self, alias: str, until: float, now: float) -> None:
        self._until = {a: end for a, end in self._until.items() if end > now}  # forget ended ones
        self._until[alias] = max(until, self._until.get(alias, until))

    async def ends(self, alias: str, now: float) -> float | None:
        until = self._until.get(alias)
        return until if until is not None and until > now else None
