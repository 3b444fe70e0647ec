"""One logging set-up for every process the CLI starts."""

from __future__ import annotations

import logging

QUIET = ("alembic", "taskiq", "httpx", "aiosqlite")
"""Libraries whose INFO lines say nothing an operator needs."""


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; idempotent, and a no-op if the host app set up logging."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
