"""``PROMETHEUS_MULTIPROC_DIR`` for the processes a command starts.

Kept apart from :mod:`referrals.adapters.metrics` on purpose: prometheus_client
decides at import whether it writes values to files, so the variable must be
set before anything imports it (the API runs in this very process with
``--workers 1``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from referrals.settings import Settings

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[str]:
    """The operator's ``PROMETHEUS_MULTIPROC_DIR`` if set (empty it between
    runs), else a temporary directory set for the block and removed after it."""
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        os.makedirs(given, exist_ok=True)
        yield given
        return
    path = tempfile.mkdtemp(prefix="referrals-metrics-")
    os.environ[MULTIPROC_DIR] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        shutil.rmtree(path, ignore_errors=True)


def multiprocess() -> bool:
    """Whether this process's metrics go to files in ``PROMETHEUS_MULTIPROC_DIR``."""
    return bool(os.environ.get(MULTIPROC_DIR))


@contextlib.contextmanager
def exposed_metrics(
    settings: Settings, host: str, port: int | None, *, always: bool = False
) -> Iterator[None]:
    """Run the block's processes with metrics in files (``always``, or when a
    ``port`` will serve them) and, with a ``port``, serve their sum there from
    a thread of this process. Nothing when ``settings.metrics`` is off."""
    if not settings.metrics or not (always or port is not None):
        yield
        return
    with multiprocess_dir():
        if port is not None:
            from referrals.adapters.metrics import serve_metrics

            serve_metrics(settings, host, port)
        yield
