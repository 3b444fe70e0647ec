"""The HTTP client of an SMS gateway, with as many requests under way as it
has connections (see docs/sending-codes.md, "A burst of codes")."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

CONNECTIONS = 20
"""Requests one gateway has under way at once (``REFERRALS_SMS_CONNECTIONS``):
httpx's default of connections kept alive. More costs CPU: httpcore's pool
scans its connections against each other on every request, so 100 of them
took 7 ms of CPU a request where 20 took about 1 (docs/sending-codes.md)."""


class SlottedClient:
    """An ``httpx.AsyncClient`` whose requests first wait for one of
    ``connections`` slots, and only then start their ``timeout``.

    Without the slots, a burst of deliveries (the in-process queue starts
    every one at once) made thousands of requests wait for the pool's
    connections inside their own timeout: they timed out while the gateway
    sat idle, and each was retried. Waiting for a slot has no deadline; the
    backlog is bounded by whoever queues the deliveries (the in-process
    queue's ``max_pending``, the worker's concurrency). The client built here
    keeps every connection alive; one passed in should have at least
    ``connections`` of them.
    """

    def __init__(
        self,
        timeout: float,
        connections: int = CONNECTIONS,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._client = client or httpx.AsyncClient(timeout=timeout, limits=limits)
        self._slots = asyncio.Semaphore(connections)
        self._timeout = timeout

    async def post(self, url: str, **request: Any) -> httpx.Response:
        """POST within ``timeout`` seconds once a slot is free; raises what
        httpx raises, or ``TimeoutError``."""
        async with self._slots, asyncio.timeout(self._timeout):
            return await self._client.post(url, **request)

    async def aclose(self) -> None:
        await self._client.aclose()
