"""Sessions in Redis: one string key per session, and a sorted set per user."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.domain.device import NO_DEVICE, SEEN_STEP, Device
from referrals.domain.sessions import SessionInfo


def _encode(user_id: int, info: SessionInfo) -> str:
    return json.dumps(
        {
            "u": user_id,
            "e": info.expires_at,
            "c": info.created_at,
            "s": info.last_seen,
            "a": info.device.address,
            "ua": info.device.user_agent,
        },
        separators=(",", ":"),
    )


def _decode(session_id: str, value: bytes | str) -> tuple[int, SessionInfo]:
    raw = text(value)
    if not raw.startswith("{"):  # written before sessions kept their device
        user_id, expires_at = raw.split(" ")
        return int(user_id), SessionInfo(session_id, float(expires_at), 0.0, 0.0, NO_DEVICE)
    fields = json.loads(raw)
    device = Device(address=fields["a"], user_agent=fields["ua"])
    info = SessionInfo(session_id, fields["e"], fields["c"], fields["s"], device)
    return int(fields["u"]), info


class RedisSessionStore:
    """Sessions as ``{prefix}session:{id}`` = a JSON object (user id, expiry,
    creation, last use, masked address, user agent), and each
    user's session ids in ``{prefix}user-sessions:{user_id}`` (a sorted set
    scored by expiry), so an operator can list and revoke them all.

    ``id`` is already the SHA-256 of the token, so neither keys nor values
    hold anything that opens a session. :meth:`get` and :meth:`revoke` are one
    command each; :meth:`create` writes the session and its index entry in
    one pipeline (one round trip; on a cluster the two keys live in different
    slots, so they go as separate commands). :meth:`get` decides expiry with
    the caller's ``now`` (the same rule as the in-memory store); key TTLs
    only clean up. Its "last seen" write, once a minute at most, is
    ``SET … XX KEEPTTL``: it never brings back a session revoked meanwhile.
    A revoked session's index entry stays until it expires: listings skip
    it, as its session key is gone.
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._cluster = isinstance(client, RedisCluster)

    @property
    def client(self) -> RedisClient:
        """The client the store talks through (stores on one client may share a round trip)."""
        return self._client

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _index(self, user_id: int) -> str:
        return f"{self._prefix}user-sessions:{user_id}"

    async def create(
        self,
        session_id: str,
        user_id: int,
        expires_at: float,
        now: float,
        device: Device = NO_DEVICE,
    ) -> None:
        value = _encode(user_id, SessionInfo(session_id, expires_at, now, now, device))
        ttl = cleanup_ms(expires_at - now)
        index = self._index(user_id)
        with translated_errors():
            if self._cluster:
                await asyncio.gather(
                    self._client.set(self._key(session_id), value, px=ttl),
                    self._add_to_index(self._client, index, session_id, expires_at, now, ttl),
                )
                return
            pipe = self._client.pipeline(transaction=False)
            pipe.set(self._key(session_id), value, px=ttl)
            await self._add_to_index(pipe, index, session_id, expires_at, now, ttl)
            await pipe.execute()

    def creation(self, user_id: int, info: SessionInfo) -> tuple[list[str], list[str | int]]:
        """What a script needs to write a new session as :meth:`create` does:
        the keys (the session's, the user's index) and the arguments (the
        value, its TTL in ms, the session id, its expiry, now)."""
        now = info.created_at
        keys = [self._key(info.session_id), self._index(user_id)]
        value = _encode(user_id, info)
        ttl = cleanup_ms(info.expires_at - now)
        return keys, [value, ttl, info.session_id, repr(info.expires_at), repr(now)]

    @staticmethod
    async def _add_to_index(
        client: Any, index: str, session_id: str, expires_at: float, now: float, ttl: int
    ) -> None:
        # In a pipeline these only queue; on a cluster they run one after another.
        for command in (
            client.zadd(index, {session_id: expires_at}),
            client.zremrangebyscore(index, "-inf", repr(now)),
            client.pexpire(index, ttl),
        ):
            result = command
            if asyncio.iscoroutine(result):
                await result

    async def get(self, session_id: str, now: float) -> int | None:
        found = await self._entry(session_id)
        return None if found is None else await self._live_user(*found, now)

    async def _entry(self, session_id: str) -> tuple[int, SessionInfo] | None:
        """The session's user id and details as stored, or ``None`` if there is no key."""
        with translated_errors():
            found = await self._client.get(self._key(session_id))
        return None if found is None else _decode(session_id, found)

    async def _live_user(self, user_id: int, info: SessionInfo, now: float) -> int | None:
        """``user_id`` if the session is live at ``now`` (noting its use, once a minute)."""
        session_id = info.session_id
        if info.expires_at <= now:
            return None
        if now - info.last_seen >= SEEN_STEP:
            seen = _encode(user_id, replace(info, last_seen=now))
            with translated_errors():
                await self._client.set(self._key(session_id), seen, xx=True, keepttl=True)
        return user_id

    async def revoke(self, session_id: str) -> None:
        with translated_errors():
            await self._client.delete(self._key(session_id))

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        with translated_errors():
            indexed: list[Any] = await self._client.zrangebyscore(
                self._index(user_id), f"({now!r}", "+inf"
            )
            ids = [text(session_id) for session_id in indexed]
            values = await self._values(ids)
        live = [
            _decode(session_id, value)
            for session_id, value in zip(ids, values, strict=True)
            if value is not None
        ]
        found = [info for owner, info in live if owner == user_id and info.expires_at > now]
        return sorted(found, key=lambda info: (info.expires_at, info.session_id))

    async def _values(self, session_ids: Sequence[str]) -> list[Any]:
        if not session_ids:
            return []
        keys = [self._key(s) for s in session_ids]
        if self._cluster:
            return list(await asyncio.gather(*(self._client.get(key) for key in keys)))
        return list(await self._client.mget(keys))

    async def revoke_user(self, user_id: int, now: float) -> int:
        live = await self.of_user(user_id, now)
        if not live:
            return 0
        ids = [info.session_id for info in live]
        with translated_errors():
            if self._cluster:
                await asyncio.gather(*(self._client.delete(self._key(s)) for s in ids))
            else:
                await self._client.delete(*(self._key(s) for s in ids))
            await self._client.zrem(self._index(user_id), *ids)
        return len(live)
