"""Sessions: open one after a verified login, authenticate with it, end it."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.application.errors import NotAuthenticated
from referrals.application.ports import Clock, SessionStore
from referrals.domain.codes import new_token, token_digest
from referrals.domain.device import Device


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    """256 random bits; the store keeps only its SHA-256."""
    user_id: int
    expires_in: int


async def open_session(
    sessions: SessionStore, clock: Clock, user_id: int, ttl: float, device: Device
) -> Session:
    token = new_token()
    now = clock.now()
    await sessions.create(token_digest(token), user_id, now + ttl, now, device)
    return Session(token=token, user_id=user_id, expires_in=round(ttl))


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
