"""Sessions in a dict, keyed by token digest, with each user's sessions indexed.

Bounded by design (docs/performance.md): at most ``capacity`` sessions; past
it the session seen least recently ends (its owner signs in again: nothing
is let in that was not), expired ones are swept as sessions are created, and
each entry is a plain tuple under the digest's 32 bytes (not its 64 hex
digits), its device shared with the other sessions of the same network and
browser, and a user with one session indexed by that key alone.
"""

from __future__ import annotations

from typing import NamedTuple

from referrals.domain.device import NO_DEVICE, SEEN_STEP, Device
from referrals.domain.sessions import SessionInfo

CAPACITY = 100_000
"""Sessions one embedded process keeps (about 27 MB): the least recently seen go first."""
SWEEP_EVERY = 1_000
"""Expired sessions are swept every so many creations."""
DEVICES = 1_000
"""Distinct devices kept to be shared among sessions; past it a device is not shared."""


_Key = bytes | str
"""A SHA-256 digest's bytes; any other session id (a fake's) as it is."""


def _key(session_id: str) -> _Key:
    if len(session_id) == 64:
        try:
            return bytes.fromhex(session_id)
        except ValueError:
            pass
    return session_id


def _session_id(key: _Key) -> str:
    return key.hex() if isinstance(key, bytes) else key


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
        self._sessions: dict[_Key, _Session] = {}
        self._by_user: dict[int, _Key | tuple[_Key, ...]] = {}
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
        key = _key(session_id)
        self._forget(key)
        while len(self._sessions) >= self._capacity:
            self._forget(next(iter(self._sessions)))
        self._sessions[key] = _Session(user_id, expires_at, now, now, self._shared(device))
        others = self._keys(user_id)
        self._by_user[user_id] = (*others, key) if others else key

    def _keys(self, user_id: int) -> tuple[_Key, ...]:
        keys: _Key | tuple[_Key, ...] = self._by_user.get(user_id, ())
        return keys if isinstance(keys, tuple) else (keys,)

    def _shared(self, device: Device) -> Device:
        shared = self._devices.get(device)
        if shared is not None:
            return shared
        if len(self._devices) < DEVICES:
            self._devices[device] = device
        return device

    def _sweep(self, now: float) -> None:
        for key in [k for k, found in self._sessions.items() if found.expires_at <= now]:
            self._forget(key)

    def _forget(self, key: _Key) -> None:
        found = self._sessions.pop(key, None)
        if found is None:
            return
        left = tuple(k for k in self._keys(found.user_id) if k != key)
        if len(left) > 1:
            self._by_user[found.user_id] = left
        elif left:
            self._by_user[found.user_id] = left[0]
        else:
            self._by_user.pop(found.user_id, None)

    async def get(self, session_id: str, now: float) -> int | None:
        key = _key(session_id)
        found = self._sessions.get(key)
        if found is None:
            return None
        if found.expires_at <= now:
            self._forget(key)
            return None
        if now - found.last_seen >= SEEN_STEP:
            del self._sessions[key]  # to the end: the most recently seen
            self._sessions[key] = found._replace(last_seen=now)
        return found.user_id

    async def revoke(self, session_id: str) -> None:
        self._forget(_key(session_id))

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        live = [
            SessionInfo(_session_id(key), found.expires_at, *found[2:])
            for key in self._keys(user_id)
            if (found := self._sessions[key]).expires_at > now
        ]
        return sorted(live, key=lambda info: (info.expires_at, info.session_id))

    async def revoke_user(self, user_id: int, now: float) -> int:
        live = await self.of_user(user_id, now)
        for key in self._keys(user_id):
            self._forget(key)
        return len(live)
