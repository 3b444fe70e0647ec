"""The default gateway: no carrier, the SMS goes to the log."""

from __future__ import annotations

import asyncio
import logging
import random

from referrals.domain.messages import SmsMessage

log = logging.getLogger("referrals.sms.console")


class ConsoleSmsGateway:
    """Wait like a real gateway would (``delay`` range, seconds), then log the SMS.

    The log line is the delivery: read it to learn the code in development.
    """

    def __init__(self, delay: tuple[float, float]) -> None:
        self._delay = delay

    @property
    def longest_send(self) -> float:
        """Seconds one :meth:`send` may take at most."""
        return self._delay[1]

    async def send(self, message: SmsMessage) -> None:
        await asyncio.sleep(random.uniform(*self._delay))
        log.info("SMS to %s: %s [%s]", message.phone, message.text, message.idempotency_key[:12])
