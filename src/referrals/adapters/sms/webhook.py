"""A gateway that POSTs each SMS as signed JSON to a URL of the operator's."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

import httpx

from referrals.application.errors import DeliveryFailed
from referrals.domain.phone import Phone

log = logging.getLogger("referrals.sms")

SIGNATURE_HEADER = "X-Referrals-Signature"
TIMESTAMP_HEADER = "X-Referrals-Timestamp"
SERVER_ERROR = 500
TOO_MANY_REQUESTS = 429


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC-SHA256(secret, timestamp + "." + body), hex.

    The receiver recomputes it and compares in constant time; the timestamp
    lets it refuse replays older than a few minutes.
    """
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSmsGateway:
    """POST ``{"id", "to", "text"}`` to ``url``.

    Each request carries ``Idempotency-Key`` (the same for every retry of
    one message) and a signature header. Timeouts, connection errors, 429
    and 5xx answers are retried ``attempts`` times with exponential backoff
    (``backoff``, doubled each time); other 4xx answers fail at once.
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self._attempts = attempts
        self._backoff = backoff
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, phone: Phone, text: str, idempotency_key: str) -> None:
        body = json.dumps({"id": idempotency_key, "to": phone, "text": text}).encode()
        problem = "no attempt made"
        for attempt in range(self._attempts):
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
                response = await self._client.post(self._url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                log.warning("SMS webhook attempt %d failed: %s", attempt + 1, problem)
                continue
            status = response.status_code
            if status < 300:
                return
            problem = f"HTTP {status}"
            if status < SERVER_ERROR and status != TOO_MANY_REQUESTS:
                break
            log.warning("SMS webhook attempt %d failed: %s", attempt + 1, problem)
        raise DeliveryFailed(f"SMS webhook refused the message: {problem}")
