"""Retention of the login history (``docs/account.md``): what is older than
``REFERRALS_HISTORY_KEEP`` is deleted in bounded batches, by a loop of its
own in the worker (or, with the embedded queue, in the serving process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("referrals.history")

PURGE_EVERY = 600.0
"""Seconds between two purges of the login history."""


@dataclass(frozen=True, slots=True)
class PurgeHistory:
    """Delete the logins older than ``keep`` seconds, ``batch`` rows per
    statement (each batch a short unit of its own: no long lock, no huge
    transaction); how many went."""

    unit_of_work: UnitOfWorkFactory
    clock: Clock
    keep: float
    batch: int

    async def __call__(self) -> int:
        before = self.clock.now() - self.keep
        total = 0
        while True:
            async with self.unit_of_work() as uow:
                count = await uow.users.purge_logins(before, self.batch)
                await uow.commit()
            total += count
            if count < self.batch:
                return total


@dataclass(slots=True)
class HistoryLoop:
    """Run ``purge`` (a :class:`PurgeHistory`) every ``every`` seconds, the
    first time ``every`` seconds after :meth:`start`, until :meth:`stop`."""

    purge: Callable[[], Awaitable[int]]
    every: float = PURGE_EVERY
    _task: asyncio.Task[None] | None = field(default=None)

    def start(self) -> None:
        """Start the loop in the running event loop."""
        self._task = asyncio.create_task(self._loop(), name="login history purge")

    async def _loop(self) -> None:
        while True:  # not at start: a process starting is busy enough
            await asyncio.sleep(self.every)
            try:
                if purged := await self.purge():
                    log.info("purged %d logins from the login history", purged)
            except ServiceUnavailable as exc:
                log.warning("login history purge: %s is unavailable; trying again", exc.what)
            except Exception:
                log.exception("login history purge failed; trying again")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
