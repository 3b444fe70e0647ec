"""The in-process queue: codes delivered by background tasks of this process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from referrals.application.errors import DeliveryFailed, ServiceUnavailable
from referrals.domain.messages import CodeDelivery
from referrals.domain.phone import masked

log = logging.getLogger("referrals.delivery")

Deliver = Callable[[CodeDelivery], Awaitable[object]]


class InProcessCodeSender:
    """A :class:`~referrals.application.ports.CodeSender` that runs ``deliver``
    (the :class:`~referrals.application.deliver_code.DeliverCode` use case) as
    a background task of this process and returns at once.

    It is the embedded default's queue: nothing to run beside the API, but
    nothing kept either: a delivery that fails is logged and not retried
    (the person asks for a new code), and deliveries still under way when
    the process exits are lost unless :meth:`drain` waited for them. At most
    ``max_pending`` deliveries are under way at once; past that, :meth:`send`
    answers ``ServiceUnavailable`` rather than letting memory grow without
    bound. It does not bound how many reach a gateway at once: each HTTP
    gateway does, to its connections (``SlottedClient`` in
    ``referrals.adapters.sms``), since a delivery that sleeps (the console
    gateway) or waits for a receipt costs only a task, and an embedded
    burst needs thousands of those (docs/sending-codes.md, "A burst of codes").
    """

    def __init__(self, deliver: Deliver, *, max_pending: int = 10_000) -> None:
        self._deliver = deliver
        self._max_pending = max_pending
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Deliveries started and not finished yet."""
        return len(self._tasks)

    async def send(self, delivery: CodeDelivery) -> None:
        if len(self._tasks) >= self._max_pending:
            raise ServiceUnavailable("the in-process SMS queue (full)")
        task = asyncio.create_task(self._run(delivery), name="referrals-deliver-code")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, delivery: CodeDelivery) -> None:
        try:
            await self._deliver(delivery)
        except (DeliveryFailed, ServiceUnavailable) as exc:
            log.warning("could not send a code to %s: %s; not retried", masked(delivery.phone), exc)
        except Exception:
            log.exception("delivering a code to %s failed", masked(delivery.phone))

    async def drain(self, within: float | None = None) -> bool:
        """Wait until every delivery under way has finished (at most ``within``
        seconds); ``True`` if none is left."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
        return not self._tasks

    async def aclose(self, within: float) -> None:
        """Drain for up to ``within`` seconds, then cancel what is left."""
        if not await self.drain(within):
            log.warning("stopping with %d SMS deliveries still under way", len(self._tasks))
            for task in set(self._tasks):
                task.cancel()
            await asyncio.wait(set(self._tasks), timeout=1.0)
