"""One logging set-up for every process the CLI starts: JSON lines in prod,
readable lines in dev, each with the request id of the request or task it
belongs to.

The records themselves never carry a code, a token or a full phone (the
code masks phones with :func:`~referrals.domain.phone.masked`; the console
SMS gateway of development, whose purpose is to show codes, aside).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from referrals.application.correlation import REQUEST_ID

QUIET = ("alembic", "taskiq", "httpx", "psycopg.pool")
"""Libraries whose INFO lines say nothing an operator needs."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Give every record the current request id (``-`` outside requests and tasks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level,
    logger, message, request_id, the ``extra`` fields given, and the
    traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_VERIFY_PATH = re.compile(r"(/verify/)[^/?\s]+")


class AccessPathFilter(logging.Filter):
    """Hide the login token in access-log paths (``/api/verify/<token>/``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and isinstance(record.args.get("path"), str):
            record.args = dict(record.args, path=_VERIFY_PATH.sub(r"\1…", record.args["path"]))
        elif isinstance(record.msg, str):
            record.msg = _VERIFY_PATH.sub(r"\1…", record.msg)
        return True


ACCESS_LOGGERS = ("granian.access", "uvicorn.access")


def configure_logging(level: str, *, json_lines: bool = False) -> None:
    """Log to stderr at ``level``, as JSON lines or text; idempotent, and
    leaves a host's own handlers alone (it only adds the request id filter)."""
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
        root.addHandler(stream)
        root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AccessPathFilter) for f in logger.filters):
            logger.addFilter(AccessPathFilter())
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def server_log_config() -> dict[str, Any]:
    """Granian's ``log_dictconfig``: its loggers hand their records to the root
    handler above (same format, same request-id filter) instead of their own."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            "_granian": {"handlers": [], "propagate": True},
            "granian.access": {"handlers": [], "propagate": True},
        },
    }
