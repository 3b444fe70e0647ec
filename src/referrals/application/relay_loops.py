"""The webhook relay's loops, run by the worker (or, with the in-process queue,
by the serving process): see docs/events.md.

One loop fans new outbox rows out into deliveries, one loop per endpoint
posts that endpoint's deliveries (so a receiver that hangs or fails costs
only its own loop time), and one keeps house: purging what was delivered
long ago and measuring the lag for the metrics. A loop that found a full
batch goes again at once; otherwise it sleeps ``poll`` seconds, so under a
steady trickle each round trip to the database carries many events. A dependency that
is down is logged and retried; nothing ends a loop but :meth:`RelayLoops.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from referrals.application.errors import ServiceUnavailable
from referrals.application.relay import Relay
from referrals.application.webhooks import Endpoint

log = logging.getLogger("referrals.relay")

HOUSEKEEPING_EVERY = 15.0
"""Seconds between two purges and lag measurements."""


@dataclass(slots=True)
class RelayLoops:
    relay: Relay
    poll: float
    """Seconds an idle loop sleeps."""
    keep: float
    """Seconds delivered events are kept (``outbox_keep``)."""
    purge_batch: int
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        """Start the loops in the running event loop."""
        relay = self.relay
        loops: list[tuple[str, Callable[[], Awaitable[int]], float]] = [
            ("fan-out", relay.fan_out, self.poll),
            ("housekeeping", self._keep_house, HOUSEKEEPING_EVERY),
        ]
        loops += [(f"to {e.name}", self._sender(e), self.poll) for e in relay.endpoints]
        for name, step, idle in loops:
            task = asyncio.create_task(self._loop(name, step, idle), name=f"relay {name}")
            self._tasks.append(task)
        log.info("relaying events to %s", ", ".join(e.name for e in relay.endpoints))

    def _sender(self, endpoint: Endpoint) -> Callable[[], Awaitable[int]]:
        async def send() -> int:
            return (await self.relay.send(endpoint)).total

        return send

    async def _keep_house(self) -> int:
        await self.relay.purge(self.keep, self.purge_batch)
        await self.relay.measure()
        return 0

    async def _loop(self, name: str, step: Callable[[], Awaitable[int]], idle: float) -> None:
        while True:
            try:
                done = await step()
            except ServiceUnavailable as exc:
                log.warning("relay %s: %s is unavailable; trying again", name, exc.what)
                done = 0
            except Exception:
                log.exception("relay %s failed; trying again", name)
                done = 0
            if done < self.relay.batch:
                await asyncio.sleep(idle)

    async def stop(self) -> None:
        """Stop the loops; a POST under way is cut short (its lease runs out
        and another relay, or this one's next start, posts it again)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
