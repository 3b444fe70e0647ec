"""Sessions in a dict, keyed by token digest, with each user's sessions indexed.

Bounded by design (docs/performance.md): at most ``capacity`` sessions; past
it the session seen least recently ends (its owner signs in again: nothing
is let in that was not), expired ones are swept as sessions are created, and
each entry is a plain tuple, its device shared with the other sessions of
the same network and browser.
"""

from __future__ import annotations

from typing import NamedTuple

from referrals.domain.device import NO_DEVICE, SEEN_STEP, Device
from referrals.domain.sessions import SessionInfo

CAPACITY = 100_000
"""Sessions one embedded process keeps (about 36 MB): the least recently seen go first."""
SWEEP_EVERY = 1_000
"""Expired sessions are swept every so many creations."""
DEVICES = 1_000
"""Distinct devices kept to be shared among sessions; past it a device is not shared."""


class _Session(NamedTuple):
    user_id: int
    expires_at: float
    created_at: float
    last_seen: float
    device: Device


class InMemorySessionStore:
    """Sessions of one process. The dict keeps them in order of last sight
    (a session moves to the end when its ``last_seen`` steps), so the first
    one is the least recently seen, which goes when ``capacity`` is reached."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._sessions: dict[str, _Session] = {}
        self._by_user: dict[int, tuple[str, ...]] = {}
        self._devices: dict[Device, Device] = {}
        self._creates = 0

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {"sessions": len(self._sessions), "users": len(self._by_user)}

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
        self._forget(session_id)
        while len(self._sessions) >= self._capacity:
            self._forget(next(iter(self._sessions)))
        self._sessions[session_id] = _Session(user_id, expires_at, now, now, self._shared(device))
        self._by_user[user_id] = (*self._by_user.get(user_id, ()), session_id)

    def _shared(self, device: Device) -> Device:
        shared = self._devices.get(device)
        if shared is not None:
            return shared
        if len(self._devices) < DEVICES:
            self._devices[device] = device
        return device

    def _sweep(self, now: float) -> None:
        for session_id in [k for k, found in self._sessions.items() if found.expires_at <= now]:
            self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        found = self._sessions.pop(session_id, None)
        if found is None:
            return
        left = tuple(s for s in self._by_user.get(found.user_id, ()) if s != session_id)
        if left:
            self._by_user[found.user_id] = left
        else:
            self._by_user.pop(found.user_id, None)

    async def get(self, session_id: str, now: float) -> int | None:
        found = self._sessions.get(session_id)
        if found is None:
            return None
        if found.expires_at <= now:
            self._forget(session_id)
            return None
        if now - found.last_seen >= SEEN_STEP:
            del self._sessions[session_id]  # to the end: the most recently seen
            self._sessions[session_id] = found._replace(last_seen=now)
        return found.user_id

    async def revoke(self, session_id: str) -> None:
        self._forget(session_id)

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        live = [
            SessionInfo(
                session_id, found.expires_at, found.created_at, found.last_seen, found.device
            )
            for session_id in self._by_user.get(user_id, ())
            if (found := self._sessions[session_id]).expires_at > now
        ]
        return sorted(live, key=lambda info: (info.expires_at, info.session_id))

    async def revoke_user(self, user_id: int, now: float) -> int:
        live = await self.of_user(user_id, now)
        for session_id in self._by_user.get(user_id, ()):
            self._forget(session_id)
        return len(live)
