"""The taskiq worker's entry: ``referrals worker`` points taskiq here."""

from __future__ import annotations

import logging

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState

from referrals.container import build_container, resolve
from referrals.settings import load_settings

log = logging.getLogger("referrals.worker")


def worker_broker() -> AsyncBroker:
    """Build the broker of one worker process, with the delivery task on it.

    taskiq calls this in each worker process; the stores open in the worker's
    start-up hook (so a bad Redis URL fails the worker at once) and close in
    its shutdown hook.
    """
    settings = load_settings()
    container = build_container(settings)
    broker: AsyncBroker = container.broker()

    async def startup(_: TaskiqState) -> None:
        await resolve(container.deliver_code)
        log.info("worker ready: SMS gateway %s", settings.sms_gateway)

    async def shutdown(_: TaskiqState) -> None:
        closing = container.shutdown_resources()
        if closing is not None:
            await closing

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    return broker
