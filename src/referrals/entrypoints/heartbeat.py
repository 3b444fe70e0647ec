"""The worker's heartbeat: a file each worker process touches every few seconds.

``referrals health --worker`` reads its age: a worker whose event loop has
stopped (hung or gone) stops touching it. The path is
``REFERRALS_WORKER_HEARTBEAT``; every worker process of one host (or
container) shares it, so it says "some worker here is alive".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

INTERVAL = 5.0
"""Seconds between two touches."""
STALE_AFTER = 3 * INTERVAL
"""A heartbeat older than this means no worker process is running its loop."""


def touch(path: str) -> None:
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.touch()


async def beat(path: str, interval: float = INTERVAL) -> None:
    """Touch ``path`` every ``interval`` seconds until cancelled."""
    while True:
        with contextlib.suppress(OSError):  # a full disk must not stop the worker
            touch(path)
        await asyncio.sleep(interval)


def age(path: str) -> float | None:
    """Seconds since the last touch, or ``None`` if there is no heartbeat file."""
    try:
        return max(0.0, time.time() - Path(path).stat().st_mtime)
    except FileNotFoundError:
        return None
