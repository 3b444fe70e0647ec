"""The id of the request being served, for log lines: set by the HTTP edge
for each request and by the worker for each task it runs (from the task's
labels), read by the log filter. Context variables follow asyncio tasks, so
the in-process queue's deliveries keep the id of the login that queued them.
"""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("referrals_request_id", default=None)
"""The current request's id, or ``None`` outside any request or task."""
