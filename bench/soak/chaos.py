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
    (0.12, "postgres"),
    (0.30, "worker"),
    (0.45, "stores redis"),
    (0.62, "queue redis"),
    (0.80, "worker"),
)
"""(share of the traffic's duration, what goes away): one thing at a time."""


def _restarts(stack: Stack) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    return {
        "postgres": (stack.postgres.stop, stack.postgres.start),
        "stores redis": (stack.stores.stop, stack.stores.start),
        "queue redis": (stack.broker.stop, stack.broker.start),
        "worker": (stack.kill_worker, stack.start_worker),
    }


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
