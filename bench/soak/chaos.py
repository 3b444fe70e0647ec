"""What goes wrong during the drill, and when: restarts and a killed worker.

:func:`run_chaos` walks a fixed schedule across the traffic's duration,
taking one thing away at a time and bringing it back after ``down``
seconds, and records each :class:`Outage` with its monotonic times, so the
checks can tell a 503 during an outage from one outside.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.soak.stack import Stack


@dataclass(frozen=True)
class Outage:
    what: str
    down: float
    """``time.monotonic()`` when it started going away."""
    up: float
    """``time.monotonic()`` when it was back (serving, or the worker started)."""


SCHEDULE: tuple[tuple[float, str], ...] = (
    (0.08, "postgres"),
    (0.15, "sms webhook"),
    (0.22, "worker"),
    (0.35, "stores redis"),
    (0.49, "queue redis"),
    (0.63, "postgres frozen"),
    (0.77, "worker"),
    (0.88, "stores redis frozen"),
)
"""(share of the traffic's duration, what goes away): one thing at a time.
A restart stops the server (fast shutdown for PostgreSQL, SIGTERM for Redis)
and starts it again; the SMS webhook's outage answers 503 to every message
(the route carries codes through SMS.ru meanwhile); a freeze SIGSTOPs every
process of the server, so connections hang instead of being refused, until
it is thawed."""


def _restarts(stack: Stack) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    return {
        "postgres": (stack.postgres.stop, stack.postgres.start),
        "stores redis": (stack.stores.stop, stack.stores.start),
        "queue redis": (stack.broker.stop, stack.broker.start),
        "postgres frozen": (stack.postgres.freeze, stack.postgres.thaw),
        "stores redis frozen": (stack.stores.freeze, stack.stores.thaw),
        "worker": (stack.kill_worker, stack.start_worker),
        "sms webhook": (lambda: _sink(stack, down=True), lambda: _sink(stack, down=False)),
    }


def _sink(stack: Stack, *, down: bool) -> None:
    with stack.sink.lock:
        stack.sink.down = down


def run_chaos(
    stack: Stack, seconds: float, down: float, stopped: threading.Event, outages: list[Outage]
) -> None:
    """Blocking: follow :data:`SCHEDULE` from now over ``seconds``, unless
    ``stopped`` is set. Every outage is over when this returns."""
    began = time.monotonic()
    actions = _restarts(stack)
    for share, what in SCHEDULE:
        if stopped.wait(max(0.0, began + share * seconds - time.monotonic())):
            return
        take_away, bring_back = actions[what]
        went = time.monotonic()
        print(f"[soak] {went - began:6.1f} s  {what} goes away for {down:g} s", flush=True)
        take_away()
        try:
            stopped.wait(down)
        finally:
            bring_back()
        back = time.monotonic()
        outages.append(Outage(what, went, back))
        print(f"[soak] {back - began:6.1f} s  {what} is back", flush=True)
