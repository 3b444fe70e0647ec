"""Sessions served from process memory, kept true by Redis' invalidation messages.

A profile read needs the session before anything else; asking Redis for it
is a round trip on every request. :class:`CachedRedisSessionStore` keeps the
sessions it has read in a bounded LRU, and Redis tells it when one changes:
a dedicated connection per Redis server (per primary on a cluster) turns on
server-assisted client-side caching in broadcast mode on the session keys'
prefix (``CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX …``) and listens
on ``__redis__:invalidate``. Whatever process writes or deletes a session key
(a logout, a revoke, an expiry, an operator), every process drops it from
memory when that one message arrives.

Staleness is bounded by design, not by luck:

* the cache answers only while every tracking connection is up; when one
  breaks (or misses a ``PING`` answer for ``timeout`` seconds), the cache is
  emptied at once and every read goes to Redis until tracking is back;
* a read that was in flight when its key changed, or when tracking broke,
  is not cached (a per-key ticket, dropped by the invalidation or the flush);
* the process's own revokes drop the entry before they return.

See docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.sessions import RedisSessionStore
from referrals.domain.sessions import SessionInfo

log = logging.getLogger(__name__)

INVALIDATIONS = "__redis__:invalidate"
PING_EVERY = 1.0
"""Seconds of silence on a tracking connection before it is pinged: with the
answer's ``timeout``, the longest a silently dead connection goes unnoticed."""
RETRY_EVERY = 1.0
"""Seconds between attempts to bring tracking back after it broke."""


class CachedRedisSessionStore(RedisSessionStore):
    """A :class:`RedisSessionStore` whose reads are served from memory while
    Redis invalidates them (see the module's docstring).

    ``capacity`` bounds the sessions kept (least recently used go first);
    ``timeout`` bounds connecting and each answer on a tracking connection.
    Call :meth:`start` on the event loop that serves requests and
    :meth:`aclose` when done.
    """

    def __init__(self, client: RedisClient, prefix: str, *, capacity: int, timeout: float) -> None:
        super().__init__(client, prefix)
        self._capacity = capacity
        self._timeout = timeout
        self._keys = self._key("").encode()
        self._cache: OrderedDict[str, tuple[int, SessionInfo]] = OrderedDict()
        self._tickets: dict[str, object] = {}
        self._live = False
        self._tracker: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._tracking_ids: tuple[int, ...] = ()

    @property
    def live(self) -> bool:
        """Whether reads may be answered from memory (every tracking connection is up)."""
        return self._live

    @property
    def tracking_ids(self) -> tuple[int, ...]:
        """The Redis client ids of the tracking connections (``CLIENT KILL ID`` ends one)."""
        return self._tracking_ids

    def __len__(self) -> int:
        return len(self._cache)

    async def start(self) -> None:
        """Start tracking in the background; reads go to Redis until it is up."""
        if self._tracker is None:
            self._tracker = asyncio.create_task(self._track(), name="session-invalidations")

    async def wait_live(self, within: float) -> bool:
        """Wait up to ``within`` seconds for tracking to be up; whether it is."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._connected.wait()
        return self._live

    async def aclose(self) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tracker
        self._stop_serving()

    async def get(self, session_id: str, now: float) -> int | None:
        if not self._live:
            return await super().get(session_id, now)
        cached = self._cache.get(session_id)
        if cached is not None:
            self._cache.move_to_end(session_id)
            return await self._live_user(*cached, now)
        ticket = self._tickets[session_id] = object()
        try:
            found = await self._entry(session_id)
        finally:
            still_valid = self._tickets.get(session_id) is ticket
            if still_valid:
                del self._tickets[session_id]
        if found is None:
            return None
        if still_valid and self._live:
            self._cache[session_id] = found
            if len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return await self._live_user(*found, now)

    async def revoke(self, session_id: str) -> None:
        self._drop(session_id)
        await super().revoke(session_id)

    async def revoke_user(self, user_id: int, now: float) -> int:
        for info in await self.of_user(user_id, now):
            self._drop(info.session_id)
        return await super().revoke_user(user_id, now)

    def _drop(self, session_id: str) -> None:
        self._cache.pop(session_id, None)
        self._tickets.pop(session_id, None)

    def _stop_serving(self) -> None:
        self._live = False
        self._tracking_ids = ()
        self._connected.clear()
        self._cache.clear()
        self._tickets.clear()

    async def _track(self) -> None:
        while True:
            connections: list[Any] = []
            ids: list[int] = []
            try:
                for connection_class, kwargs in await self._servers():
                    connection, me = await self._subscribe(connection_class, kwargs)
                    connections.append(connection)
                    ids.append(me)
                self._tracking_ids = tuple(ids)
                self._live = True
                self._connected.set()
                log.info(
                    "sessions cached in memory, invalidated by %d Redis server(s)", len(connections)
                )
                await self._listen(connections)
            except (RedisError, OSError) as exc:
                log.warning("session invalidations stopped (%s): reading sessions from Redis", exc)
            finally:
                self._stop_serving()
                for connection in connections:
                    with contextlib.suppress(Exception):
                        await connection.disconnect()
            await asyncio.sleep(RETRY_EVERY)

    async def _servers(self) -> list[tuple[type[Any], dict[str, Any]]]:
        """How to connect to every server that holds session keys (TLS and all)."""
        client = self._client
        if isinstance(client, RedisCluster):
            await client.initialize()
            return [(n.connection_class, n.connection_kwargs) for n in client.get_primaries()]
        pool = client.connection_pool
        return [(pool.connection_class, pool.connection_kwargs)]

    async def _subscribe(
        self, connection_class: type[Any], settings: dict[str, Any]
    ) -> tuple[Any, int]:
        """A connection that hears of every change to a session key, and its client id."""
        connection = connection_class(
            **settings
            | {
                "protocol": 2,  # invalidations as Pub/Sub messages, not RESP3 pushes
                "decode_responses": False,
                "socket_connect_timeout": self._timeout,
                "socket_timeout": self._timeout,
                "health_check_interval": 0,
                "retry": None,
            }
        )
        try:
            return connection, await self._track_on(connection)
        except BaseException:
            await connection.disconnect()
            raise

    async def _track_on(self, connection: Any) -> int:
        await connection.connect()
        me = await self._command(connection, "CLIENT", "ID")
        await self._command(connection, "CLIENT", "SETNAME", "referrals-session-invalidations")
        await self._command(
            connection, "CLIENT", "TRACKING", "ON", "REDIRECT", me, "BCAST", "PREFIX", self._keys
        )
        await self._command(connection, "SUBSCRIBE", INVALIDATIONS)
        return int(me)

    async def _command(self, connection: Any, *args: Any) -> Any:
        await connection.send_command(*args)
        answer = await connection.read_response(timeout=self._timeout)
        if answer is None:
            raise TimeoutError(f"no answer to {args[0]} within {self._timeout} s")
        return answer

    async def _listen(self, connections: Sequence[Any]) -> None:
        listeners = [asyncio.create_task(self._listen_to(c)) for c in connections]
        try:
            done, _ = await asyncio.wait(listeners, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a listener only ends by raising
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)

    async def _listen_to(self, connection: Any) -> None:
        while True:
            message = await connection.read_response(timeout=PING_EVERY)
            if message is None:  # quiet: is the connection still there?
                await connection.send_command("PING")
                message = await connection.read_response(timeout=self._timeout)
                if message is None:
                    raise TimeoutError(f"no answer to PING within {self._timeout} s")
            self._invalidated(message)

    def _invalidated(self, message: Any) -> None:
        if not isinstance(message, list) or message[:1] != [b"message"]:
            return  # a pong or a subscription confirmation
        keys = message[2]
        if keys is None:  # FLUSHDB, FLUSHALL, or the server's tracking table overflowed
            self._cache.clear()
            self._tickets.clear()
            return
        start = len(self._keys)
        for key in keys:
            if isinstance(key, bytes) and key.startswith(self._keys):
                self._drop(key[start:].decode())
