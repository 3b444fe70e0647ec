"""Sessions in a dict, keyed by token digest, with each user's sessions indexed."""

from __future__ import annotations

from referrals.application.ports import SessionInfo

SWEEP_EVERY = 1_000
"""Expired sessions are swept every so many creations, so memory stays bounded."""


class InMemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, tuple[int, float]] = {}
        self._by_user: dict[int, set[str]] = {}
        self._creates = 0

    async def create(self, session_id: str, user_id: int, expires_at: float, now: float) -> None:
        self._creates += 1
        if self._creates % SWEEP_EVERY == 0:
            self._sweep(now)
        self._sessions[session_id] = (user_id, expires_at)
        self._by_user.setdefault(user_id, set()).add(session_id)

    def _sweep(self, now: float) -> None:
        for session_id, (_, expires_at) in list(self._sessions.items()):
            if expires_at <= now:
                self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        found = self._sessions.pop(session_id, None)
        if found is None:
            return
        ids = self._by_user.get(found[0])
        if ids is not None:
            ids.discard(session_id)
            if not ids:
                del self._by_user[found[0]]

    async def get(self, session_id: str, now: float) -> int | None:
        found = self._sessions.get(session_id)
        if found is None:
            return None
        user_id, expires_at = found
        if expires_at <= now:
            self._forget(session_id)
            return None
        return user_id

    async def revoke(self, session_id: str) -> None:
        self._forget(session_id)

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        live = [
            SessionInfo(session_id, self._sessions[session_id][1])
            for session_id in self._by_user.get(user_id, ())
            if self._sessions[session_id][1] > now
        ]
        return sorted(live, key=lambda info: (info.expires_at, info.session_id))

    async def revoke_user(self, user_id: int, now: float) -> int:
        live = await self.of_user(user_id, now)
        for session_id in list(self._by_user.get(user_id, ())):
            self._forget(session_id)
        return len(live)
