"""Sessions: open one after a verified login, authenticate with it, end it."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.application.errors import NotAuthenticated
from referrals.application.ports import Clock, SessionStore
from referrals.domain.codes import new_token, token_digest
from referrals.domain.device import Device
from referrals.domain.sessions import SessionInfo


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    """256 random bits; the store keeps only its SHA-256."""
    user_id: int
    expires_in: int


def new_session(
    user_id: int, ttl: float, now: float, device: Device
) -> tuple[Session, SessionInfo]:
    """A fresh session: what its owner gets, and what a store keeps of it."""
    token = new_token()
    info = SessionInfo(token_digest(token), now + ttl, now, now, device)
    return Session(token=token, user_id=user_id, expires_in=round(ttl)), info


async def open_session(
    sessions: SessionStore, clock: Clock, user_id: int, ttl: float, device: Device
) -> Session:
    session, info = new_session(user_id, ttl, clock.now(), device)
    await sessions.create(info.session_id, user_id, info.expires_at, info.created_at, device)
    return session


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Turn a session token into the id of its user, or raise ``NotAuthenticated``."""

    sessions: SessionStore
    clock: Clock

    async def __call__(self, token: str | None) -> int:
        if not token:
            raise NotAuthenticated()
        user_id = await self.sessions.get(token_digest(token), self.clock.now())
        if user_id is None:
            raise NotAuthenticated()
        return user_id


@dataclass(frozen=True, slots=True)
class Logout:
    """Revoke a session server-side at once; unknown tokens are ignored."""

    sessions: SessionStore

    async def __call__(self, token: str | None) -> None:
        if token:
            await self.sessions.revoke(token_digest(token))
