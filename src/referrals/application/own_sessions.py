"""One's own sessions: list them, end one, end all but this one (``docs/account.md``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from referrals.application.ports import Clock, SessionStore
from referrals.domain.codes import token_digest
from referrals.domain.device import Device
from referrals.domain.errors import SessionNotFound


@dataclass(frozen=True, slots=True)
class OwnSession:
    """A session of the caller's, as they see it in their list."""

    id: str
    """The SHA-256 of its token (opens nothing): what ending it takes."""
    created_at: float
    last_seen: float
    """Moves at most once a minute (see ``SessionStore.get``)."""
    expires_at: float
    device: Device
    current: bool
    """The session the request came with."""


@dataclass(frozen=True, slots=True)
class ListSessions:
    """The user's live sessions, the newest first, the calling one marked."""

    sessions: SessionStore
    clock: Clock

    async def __call__(self, user_id: int, token: str | None) -> list[OwnSession]:
        current = token_digest(token) if token else ""
        live = await self.sessions.of_user(user_id, self.clock.now())
        own = [
            OwnSession(
                id=info.session_id,
                created_at=info.created_at,
                last_seen=info.last_seen,
                expires_at=info.expires_at,
                device=info.device,
                current=info.session_id == current,
            )
            for info in live
        ]
        return sorted(own, key=lambda s: (-s.created_at, s.id))


@dataclass(frozen=True, slots=True)
class RevokeSession:
    """End one of the user's own sessions (the calling one too, if asked);
    ``SessionNotFound`` for an id that is not a live session of theirs."""

    sessions: SessionStore
    clock: Clock

    async def __call__(self, user_id: int, session_id: str) -> None:
        live = await self.sessions.of_user(user_id, self.clock.now())
        if session_id not in {info.session_id for info in live}:
            raise SessionNotFound()
        await self.sessions.revoke(session_id)


@dataclass(frozen=True, slots=True)
class RevokeOtherSessions:
    """End every session of the user but the calling one; how many ended."""

    sessions: SessionStore
    clock: Clock

    async def __call__(self, user_id: int, token: str | None) -> int:
        current = token_digest(token) if token else ""
        live = await self.sessions.of_user(user_id, self.clock.now())
        others = [info.session_id for info in live if info.session_id != current]
        await asyncio.gather(*(self.sessions.revoke(session_id) for session_id in others))
        return len(others)
