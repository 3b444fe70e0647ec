"""The real clock: every expiry of the service is decided with it."""

from __future__ import annotations

import time


class SystemClock:
    """:class:`~referrals.application.ports.Clock` on the system's wall clock."""

    def now(self) -> float:
        return time.time()
