"""Sessions in a dict, keyed by token digest, with each user's sessions indexed."""

from __future__ import annotations

import dataclasses

from referrals.domain.device import NO_DEVICE, SEEN_STEP, Device
from referrals.domain.sessions import SessionInfo

SWEEP_EVERY = 1_000
"""Expired sessions are swept every so many creations, so memory stays bounded."""


@dataclasses.dataclass(slots=True)
class _Session:
    user_id: int
    info: SessionInfo


class InMemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._by_user: dict[int, set[str]] = {}
        self._creates = 0

    async def create(
        self,
        session_id: str,
        user_id: int,
        expires_at: float,
        now: float,
        device: Device = NO_DEVICE,
    ) -> None:
        self._creates += 1
        if self._creates % SWEEP_EVERY == 0:
            self._sweep(now)
        info = SessionInfo(session_id, expires_at, created_at=now, last_seen=now, device=device)
        self._sessions[session_id] = _Session(user_id, info)
        self._by_user.setdefault(user_id, set()).add(session_id)

    def _sweep(self, now: float) -> None:
        for session_id, found in list(self._sessions.items()):
            if found.info.expires_at <= now:
                self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        found = self._sessions.pop(session_id, None)
        if found is None:
            return
        ids = self._by_user.get(found.user_id)
        if ids is not None:
            ids.discard(session_id)
            if not ids:
                del self._by_user[found.user_id]

    async def get(self, session_id: str, now: float) -> int | None:
        found = self._sessions.get(session_id)
        if found is None:
            return None
        if found.info.expires_at <= now:
            self._forget(session_id)
            return None
        if now - found.info.last_seen >= SEEN_STEP:
            found.info = dataclasses.replace(found.info, last_seen=now)
        return found.user_id

    async def revoke(self, session_id: str) -> None:
        self._forget(session_id)

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        live = [
            self._sessions[session_id].info
            for session_id in self._by_user.get(user_id, ())
            if self._sessions[session_id].info.expires_at > now
        ]
        return sorted(live, key=lambda info: (info.expires_at, info.session_id))

    async def revoke_user(self, user_id: int, now: float) -> int:
        live = await self.of_user(user_id, now)
        for session_id in list(self._by_user.get(user_id, ())):
            self._forget(session_id)
        return len(live)
