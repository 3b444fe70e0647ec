"""Sessions in Redis: one string key per session, and a sorted set per user."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.application.ports import SessionInfo


class RedisSessionStore:
    """Sessions as ``{prefix}session:{id} = "{user_id} {expires_at}"``, and each
    user's session ids in ``{prefix}user-sessions:{user_id}`` (a sorted set
    scored by expiry), so an operator can list and revoke them all.

    ``id`` is already the SHA-256 of the token, so neither keys nor values
    hold anything that opens a session. :meth:`get` and :meth:`revoke` are one
    command each; :meth:`create` writes the session and its index entry in
    one pipeline (one round trip; on a cluster the two keys live in different
    slots, so they go as separate commands). :meth:`get` decides expiry with
    the caller's ``now`` (the same rule as the in-memory store); key TTLs
    only clean up. A revoked session's index entry stays until it expires:
    listings skip it, as its session key is gone.
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._cluster = isinstance(client, RedisCluster)

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _index(self, user_id: int) -> str:
        return f"{self._prefix}user-sessions:{user_id}"

    async def create(self, session_id: str, user_id: int, expires_at: float, now: float) -> None:
        value = f"{user_id} {expires_at!r}"
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
        with translated_errors():
            found = await self._client.get(self._key(session_id))
        if found is None:
            return None
        user_id, expires_at = text(found).split(" ")
        return int(user_id) if float(expires_at) > now else None

    async def revoke(self, session_id: str) -> None:
        with translated_errors():
            await self._client.delete(self._key(session_id))

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        with translated_errors():
            indexed: list[Any] = await self._client.zrangebyscore(
                self._index(user_id), f"({now!r}", "+inf", withscores=True
            )
            candidates = [SessionInfo(text(pair[0]), float(pair[1])) for pair in indexed]
            present = await self._present([info.session_id for info in candidates])
        return [info for info, there in zip(candidates, present, strict=True) if there]

    async def _present(self, session_ids: Sequence[str]) -> list[bool]:
        if not session_ids:
            return []
        if self._cluster:
            found = await asyncio.gather(*(self._client.exists(self._key(s)) for s in session_ids))
            return [bool(n) for n in found]
        pipe = self._client.pipeline(transaction=False)
        for session_id in session_ids:
            pipe.exists(self._key(session_id))
        return [bool(n) for n in await pipe.execute()]

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
