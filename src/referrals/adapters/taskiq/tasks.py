"""The code-delivery task, and the CodeSender that enqueues it."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from redis.exceptions import RedisError
from taskiq import AsyncBroker, Context, TaskiqDepends
from taskiq.exceptions import SendTaskError
from taskiq.kicker import AsyncKicker

from referrals.adapters import tracing
from referrals.application.correlation import REQUEST_ID
from referrals.application.deliver_code import DeliverCode, Delivery
from referrals.application.errors import DeliveryFailed, ServiceUnavailable
from referrals.domain.messages import CodeDelivery
from referrals.domain.phone import Phone, masked

DELIVER_CODE = "referrals.deliver_code"
REQUEST_ID_LABEL = "request_id"
"""The task label that carries the id of the request that queued it."""

log = logging.getLogger(__name__)


def register_tasks(
    broker: AsyncBroker,
    deliver: Callable[[], DeliverCode | Awaitable[DeliverCode]],
    *,
    clock: Callable[[], float] = time.time,
) -> None:
    """Register the tasks on ``broker``; ``deliver`` resolves the use case lazily
    (in a worker, after its start-up hook has opened the stores).

    The delivery task acknowledges its message itself (it is queued with
    ``ack_type=manual``), and only once the outcome is final: sent, a
    duplicate, or stale (not busy: another worker's claim may yet fail).
    When it fails (the gateway refused, Redis was
    unreachable, the ``timeout`` label cut it off, or a bug) the message stays
    unacknowledged, so the broker hands it out again after its redelivery
    time, until the code expires; then it is dropped. The ``timeout`` label
    cancels the task from outside, which leaves the message alone too.
    """

    async def deliver_code(
        challenge_id: str,
        phone: str,
        sealed_code: str,
        expires_at: float,
        context: Annotated[Context, TaskiqDepends()],
        language: str | None = None,
        requested_at: float | None = None,
        after: str | None = None,
        not_before: float | None = None,
    ) -> str:
        # The login's request id (a label) names this delivery's log lines too.
        labels = context.message.labels
        token = REQUEST_ID.set(labels.get(REQUEST_ID_LABEL) or None)
        try:
            delivery = CodeDelivery(
                challenge_id=challenge_id,
                phone=Phone(phone),
                sealed_code=sealed_code,
                expires_at=expires_at,
                language=language,
                requested_at=requested_at,
                after=after,
                not_before=not_before,
            )
            delivering = _deliver(delivery, context)
            if not tracing.active():
                return await delivering
            # The delivery continues the trace of the login that queued it.
            with tracing.continued("deliver_code", labels):
                return await delivering
        finally:
            REQUEST_ID.reset(token)

    async def _deliver(delivery: CodeDelivery, context: Context) -> str:
        phone, expires_at = delivery.phone, delivery.expires_at
        try:
            use_case = deliver()
            if inspect.isawaitable(use_case):
                use_case = await use_case
            if tracing.active():
                use_case = tracing.TracedUseCase(use_case)
            outcome: Delivery = await use_case(delivery)
        except (DeliveryFailed, ServiceUnavailable) as exc:
            # Expected outages: one line, no traceback.
            log.warning(
                "could not send a code to %s: %s; %s",
                masked(phone),
                exc,
                await _after_failure(context, expires_at, clock(), phone),
            )
            return "failed"
        except asyncio.CancelledError:
            # The timeout label (or a hard shutdown) cancelled the task; the
            # message stays unacknowledged, so the queue hands it out again.
            limit = context.message.labels.get("timeout")
            log.warning(
                "sending a code to %s was cut off by the task's time limit (%s) or a shutdown; %s",
                masked(phone),
                f"{float(limit):g} s" if limit is not None else "none",
                "left in the queue for a retry" if context.is_ackable else "not retried",
            )
            raise
        except Exception:
            await _after_failure(context, expires_at, clock(), phone)
            raise  # a bug: taskiq logs the traceback
        if outcome is Delivery.BUSY:  # another worker's claim: leave it for a retry
            return str(outcome)
        await _ack(context, phone)
        return str(outcome)

    broker.register_task(deliver_code, task_name=DELIVER_CODE)


async def _ack(context: Context, phone: str) -> None:
    """Acknowledge a final outcome. If the queue's Redis is away, the message
    stays and is handed out again later, and the ledger drops the copy as
    already sent (or stale): worth a warning, not a task error."""
    if not context.is_ackable:  # the in-process broker's messages are not
        return
    try:
        await context.ack()
    except (RedisError, OSError) as exc:
        log.warning(
            "could not acknowledge the delivery to %s (%s): the queue will have it handed"
            " out again, and it will be dropped as done",
            masked(phone),
            exc,
        )


async def _after_failure(context: Context, expires_at: float, now: float, phone: str) -> str:
    """Leave a failed delivery to the queue's retry, unless its code has expired."""
    if not context.is_ackable:
        return "no retry (in-process queue)"
    if now >= expires_at:
        await _ack(context, phone)
        return "dropped, the code has expired"
    return "left in the queue for a retry"


class TaskiqCodeSender:
    """Queues a :class:`CodeDelivery` as a taskiq task and returns at once.

    ``timeout`` (seconds) is the task's own time limit in the worker. It
    must stay below both the delivery lease and the broker's redelivery
    time, so a live worker finishes (or gives up) before another worker may
    take the same task over.
    """

    def __init__(self, broker: AsyncBroker, timeout: float) -> None:
        self.timeout = timeout
        self._broker = broker
        self._labels: dict[str, object] = {"timeout": timeout, "ack_type": "manual"}
        self._kicker: AsyncKicker[..., str] = AsyncKicker(DELIVER_CODE, broker, labels=self._labels)

    async def send(self, delivery: CodeDelivery) -> None:
        kicker = self._kicker
        extra: dict[str, object] = {**tracing.inject()}  # the trace context, when tracing
        request_id = REQUEST_ID.get()
        if request_id is not None:
            extra[REQUEST_ID_LABEL] = request_id
        follow_up: dict[str, object] = {}  # only on follow-ups: older workers lack them
        if delivery.not_before is not None:  # a follow-up waits in the task first
            wait = max(0.0, delivery.not_before - time.time())
            extra["timeout"] = wait + self.timeout
            follow_up = {"after": delivery.after, "not_before": delivery.not_before}
        if extra:  # a kicker of its own: with_labels changes the one it is on
            kicker = AsyncKicker(DELIVER_CODE, self._broker, labels={**self._labels, **extra})
        try:
            await kicker.kiq(
                challenge_id=delivery.challenge_id,
                phone=delivery.phone,
                sealed_code=delivery.sealed_code,
                expires_at=delivery.expires_at,
                language=delivery.language,
                requested_at=delivery.requested_at,
                **follow_up,
            )
        except (SendTaskError, RedisError, OSError) as exc:  # SendTaskError: a failed kick
            raise ServiceUnavailable("the task queue") from exc
