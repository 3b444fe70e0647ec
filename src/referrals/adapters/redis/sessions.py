"""Sessions in Redis: one string key per session, one command per method."""

from __future__ import annotations

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors


class RedisSessionStore:
    """Sessions as ``{prefix}session:{id} = "{user_id} {expires_at}"``.

    ``id`` is already the SHA-256 of the token, so neither keys nor values
    hold anything that opens a session. Every method is one Redis command,
    atomic by itself. :meth:`get` decides expiry with the caller's ``now``
    (the same rule as the in-memory store); the key's TTL only cleans up.
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    async def create(self, session_id: str, user_id: int, expires_at: float, now: float) -> None:
        value = f"{user_id} {expires_at!r}"
        with translated_errors():
            await self._client.set(self._key(session_id), value, px=cleanup_ms(expires_at - now))

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
