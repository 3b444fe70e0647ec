"""The worker's delivery task when the queue's Redis goes away after the SMS
went out: the acknowledgement fails, and that is not an error of the task.

The soak drill (bench/soak) found it: restarting the queue's Redis while a
worker finished a delivery logged taskiq's 50-line traceback for the failed
acknowledgement. The message stays in the queue, is handed out again, and
the ledger drops it as already sent: one warning line says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import redis.exceptions
from taskiq import InMemoryBroker

from referrals.adapters.taskiq import DELIVER_CODE, register_tasks
from referrals.application.deliver_code import Delivery
from referrals.application.errors import DeliveryFailed


@dataclass
class QueueGone:
    """A task context whose acknowledgement finds the queue's Redis down."""

    acks: int = 0
    is_ackable: bool = True
    message: Any = field(default_factory=lambda: SimpleNamespace(labels={}))

    async def ack(self) -> None:
        self.acks += 1
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")


async def run_task(
    outcome: Delivery | Exception, context: QueueGone, expires_at: float = 2e9
) -> Any:
    async def deliver(_: object) -> Delivery:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    broker = InMemoryBroker()
    register_tasks(broker, lambda: deliver)  # type: ignore[arg-type, return-value]
    task = broker.find_task(DELIVER_CODE)
    assert task is not None
    return await task.original_func(
        challenge_id="c" * 64,
        phone="+79991234567",
        sealed_code="sealed",
        expires_at=expires_at,
        context=context,
    )


@pytest.mark.parametrize("outcome", [Delivery.SENT, Delivery.DUPLICATE, Delivery.STALE])
async def test_a_failed_acknowledgement_is_one_warning_not_a_crash(
    outcome: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    context = QueueGone()
    with caplog.at_level(logging.INFO):
        result = await run_task(outcome, context)

    assert result == str(outcome)
    assert context.acks == 1
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "handed out again" in warning.getMessage()
    assert "+7999***4567" in warning.getMessage()
    assert warning.exc_info is None


async def test_dropping_an_expired_failed_delivery_survives_the_queue_being_gone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    context = QueueGone()
    with caplog.at_level(logging.INFO):
        result = await run_task(DeliveryFailed("HTTP 500"), context, expires_at=0.0)

    assert result == "failed"
    assert context.acks == 1
    assert all(r.exc_info is None for r in caplog.records)
