"""Sessions in a dict, keyed by token digest."""

from __future__ import annotations

SWEEP_EVERY = 1_000
"""Expired sessions are swept every so many creations, so memory stays bounded."""


class InMemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, tuple[int, float]] = {}
        self._creates = 0

    async def create(self, session_id: str, user_id: int, expires_at: float, now: float) -> None:
        self._creates += 1
        if self._creates % SWEEP_EVERY == 0:
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}
        self._sessions[session_id] = (user_id, expires_at)

    async def get(self, session_id: str, now: float) -> int | None:
        found = self._sessions.get(session_id)
        if found is None:
            return None
        user_id, expires_at = found
        if expires_at <= now:
            del self._sessions[session_id]
            return None
        return user_id

    async def revoke(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
