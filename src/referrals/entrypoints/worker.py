"""The taskiq worker's entry: ``referrals worker`` points taskiq here."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState

from referrals.adapters.taskiq import register_tasks
from referrals.application.events import Hooks
from referrals.application.history import HistoryLoop
from referrals.application.ports import EventSink
from referrals.application.relay_loops import RelayLoops
from referrals.application.sms_text import SmsText
from referrals.container import close, resolve
from referrals.entrypoints import heartbeat
from referrals.entrypoints.logs import configure_logging
from referrals.entrypoints.multiprocess import multiprocess
from referrals.service import Adapters, build_container, start_history_purge, start_relay
from referrals.settings import Settings, load_settings

log = logging.getLogger("referrals.worker")


def worker_broker() -> AsyncBroker:
    """The broker ``referrals worker`` runs: settings from the environment."""
    return build_worker_broker(load_settings())


def build_worker_broker(
    settings: Settings,
    *,
    adapters: Adapters | None = None,
    hooks: EventSink | None = None,
    sms_text: SmsText | None = None,
) -> AsyncBroker:
    """Build the broker of one worker process, with the delivery task on it.

    taskiq calls :func:`worker_broker` in each worker process; a host that
    wants its own hooks (``CodeSent`` fires here), SMS texts or gateway
    points ``taskiq worker`` at a function of its own that calls this. The
    stores open in the worker's start-up hook (so a bad Redis URL fails the
    worker at once) and close in its shutdown hook.
    """
    # run_worker turned taskiq's loggers up to INFO (a line per task); quiet
    # them again in this process, keeping their warnings and errors.
    configure_logging(settings.log_level, json_lines=settings.log_json)
    _without_timeout_tracebacks(logging.getLogger("taskiq.receiver.receiver"))
    metrics_on = settings.metrics and multiprocess()  # `referrals worker --metrics-port`
    if metrics_on:
        from referrals.adapters.metrics import Metrics, MetricsSink

        inner = hooks if hooks is not None else Hooks()
        hooks = MetricsSink(Metrics(), inner, gateway=settings.sms_gateway)
    container = build_container(settings, adapters=adapters, hooks=hooks, sms_text=sms_text)
    broker = container.broker()
    if broker is None:
        raise ValueError("a worker needs settings.broker_url")
    register_tasks(broker, container.deliver_code)
    beating: list[asyncio.Task[None]] = []
    relaying: list[RelayLoops] = []
    purging: list[HistoryLoop] = []

    async def startup(_: TaskiqState) -> None:
        await resolve(container.deliver_code)
        beating.append(asyncio.create_task(heartbeat.beat(settings.worker_heartbeat)))
        if settings.webhooks:  # each worker process relays; claims keep them apart
            loops = await start_relay(container, settings)
            relaying.extend([loops] if loops is not None else [])
        purging.append(await start_history_purge(container, settings))
        channels = await resolve(container.sms_channels)
        log.info(
            "%s ready (pid %d): SMS routes %s, queue %s, redelivery after %g s",
            multiprocessing.current_process().name,
            os.getpid(),
            settings.routes,
            settings.task_queue,
            settings.broker_redelivery,
        )
        limit = settings.delivery_time_limit
        for gateway in channels.values():
            _check_time_limit(settings, getattr(gateway, "longest_send", None), limit)

    async def shutdown(_: TaskiqState) -> None:
        for task in beating:
            task.cancel()
        for loops in relaying:
            await loops.stop()
        for loop in purging:
            await loop.stop()
        await close(container)
        if metrics_on:
            from referrals.adapters.metrics import process_ended

            process_ended()
        log.info("%s stopped (pid %d)", multiprocessing.current_process().name, os.getpid())

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    return broker


def _check_time_limit(settings: Settings, longest_send: float | None, limit: float) -> None:
    """Warn when the gateway may need longer than a task may run: such sends
    are cut off by the task's time limit and retried until the code expires."""
    if longest_send is None or longest_send < limit:
        return
    log.warning(
        "the SMS gateway may take %g s, but a delivery task is cut off after %g s"
        " (set from REFERRALS_BROKER_REDELIVERY=%g): slow sends will fail and be"
        " retried until the code expires; raise REFERRALS_BROKER_REDELIVERY or"
        " make the gateway faster",
        longest_send,
        limit,
        settings.broker_redelivery,
    )


class _CutOffTasks(logging.Filter):
    """Drop taskiq's traceback for a task its ``timeout`` label cut off.

    The task logs one line of its own when that happens; taskiq's record
    (a ``TimeoutError`` raised over the cancellation, some 80 lines) adds
    nothing. Every other error keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        cut_off = type(error) is TimeoutError and isinstance(
            error.__context__, asyncio.CancelledError
        )
        return not cut_off


def _without_timeout_tracebacks(logger: logging.Logger) -> None:
    if not any(isinstance(f, _CutOffTasks) for f in logger.filters):
        logger.addFilter(_CutOffTasks())
