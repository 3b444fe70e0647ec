"""A gateway that POSTs each SMS as signed JSON to a URL of the operator's."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx

from referrals.adapters.sms.http_slots import CONNECTIONS, SlottedClient
from referrals.adapters.sms.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from referrals.application.errors import DeliveryFailed, Failure
from referrals.domain.messages import SmsMessage
from referrals.domain.phone import masked

log = logging.getLogger("referrals.sms")

SERVER_ERROR = 500
TOO_MANY_REQUESTS = 429


class WebhookSmsGateway:
    """POST ``{"id", "to", "text"}`` to ``url``.

    Each request carries ``Idempotency-Key`` (the same for every retry of
    one message, so the receiver can drop a repeat), a timestamp and a
    signature header (see :func:`signature`). One message is tried up to
    ``attempts`` times in all: timeouts (``timeout`` seconds per attempt,
    connecting included), connection errors, 429 and 5xx answers are retried
    after ``backoff`` seconds, doubled each time; any other answer that is
    not 2xx fails at once, as a permanent failure (the next channel gets the
    code). Failing raises :class:`DeliveryFailed`. At most ``connections``
    requests are under way at once; the others wait for a slot before their
    timeout starts (:class:`SlottedClient`).
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float,
        attempts: int = 3,
        backoff: float = 0.5,
        client: httpx.AsyncClient | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        self._url = url
        self._secret = secret
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = timeout
        self._client = SlottedClient(timeout, connections, client)

    @property
    def longest_send(self) -> float:
        """About the most seconds one :meth:`send` takes: every attempt
        timing out, plus the pauses between them."""
        pauses = sum(self._backoff * 2.0**i for i in range(self._attempts - 1))
        return self._attempts * self._timeout + pauses

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, message: SmsMessage) -> None:
        phone, idempotency_key = message.phone, message.idempotency_key
        body = json.dumps({"id": idempotency_key, "to": phone, "text": message.text}).encode()
        problem, tries = "no attempt made", 0
        for attempt in range(self._attempts):
            tries = attempt + 1
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            }
            try:
                # The whole attempt (connect, send, answer) within ``timeout``.
                response = await self._client.post(self._url, content=body, headers=headers)
            except (httpx.HTTPError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
                log.warning("SMS webhook attempt %d failed: %s", attempt + 1, problem)
                continue
            status = response.status_code
            if status < 300:
                log.info(
                    "SMS to %s accepted by the webhook (HTTP %d) [%s]",
                    masked(phone),
                    status,
                    idempotency_key[:12],
                )
                return
            problem = f"HTTP {status}"
            log.warning("SMS webhook attempt %d failed: %s", attempt + 1, problem)
            if status < SERVER_ERROR and status != TOO_MANY_REQUESTS:
                refused = f"SMS webhook refused the message: {problem}"
                raise DeliveryFailed(refused, Failure.PERMANENT)
        raise DeliveryFailed(f"SMS webhook failed after {tries} attempt(s): {problem}")
