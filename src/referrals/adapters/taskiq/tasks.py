"""The code-delivery task, and the CodeSender that enqueues it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError
from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker

from referrals.application.deliver_code import DeliverCode
from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import CodeDelivery
from referrals.domain.phone import Phone

DELIVER_CODE = "referrals.deliver_code"


def register_tasks(
    broker: AsyncBroker, deliver: Callable[[], DeliverCode | Awaitable[DeliverCode]]
) -> None:
    """Register the tasks on ``broker``; ``deliver`` resolves the use case lazily
    (in a worker, after its start-up hook has opened the stores)."""

    async def deliver_code(
        challenge_id: str, phone: str, sealed_code: str, expires_at: float
    ) -> str:
        use_case = deliver()
        if inspect.isawaitable(use_case):
            use_case = await use_case
        outcome = await use_case(
            CodeDelivery(
                challenge_id=challenge_id,
                phone=Phone(phone),
                sealed_code=sealed_code,
                expires_at=expires_at,
            )
        )
        return outcome.value

    broker.register_task(deliver_code, task_name=DELIVER_CODE)


class TaskiqCodeSender:
    """Queues a :class:`CodeDelivery` as a taskiq task and returns at once.

    ``timeout`` (seconds) is the task's own time limit in the worker.
    """

    def __init__(self, broker: AsyncBroker, timeout: float) -> None:
        self._kicker: AsyncKicker[..., str] = AsyncKicker(
            DELIVER_CODE, broker, labels={"timeout": timeout}
        )

    async def send(self, delivery: CodeDelivery) -> None:
        try:
            await self._kicker.kiq(
                challenge_id=delivery.challenge_id,
                phone=delivery.phone,
                sealed_code=delivery.sealed_code,
                expires_at=delivery.expires_at,
            )
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable("the task queue") from exc
