"""The :class:`~referrals.application.webhooks.WebhookPoster` on httpx, signing
with the ``standardwebhooks`` package (the spec's reference library)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from referrals.application.outbox import OutboxEvent
from referrals.application.webhooks import Answer, Endpoint

USER_AGENT = "referrals-webhooks/1"


def body_of(event: OutboxEvent) -> bytes:
    """The request body: ``{"type", "timestamp", "data"}`` as compact JSON."""
    return json.dumps(event.body, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret: str, event_id: str, body: bytes, now: float) -> dict[str, str]:
    """The Standard Webhooks headers of one request: ``webhook-id``,
    ``webhook-timestamp`` (seconds) and ``webhook-signature`` (``v1,…``)."""
    moment = datetime.fromtimestamp(int(now), UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": Webhook(secret).sign(event_id, moment, body),
    }


class HttpWebhookPoster:
    """POSTs each event, signed afresh at each attempt (the timestamp is the
    attempt's, the ``webhook-id`` the event's). ``timeout`` bounds one
    request, connecting included."""

    def __init__(
        self,
        timeout: float,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False
        )
        self._timeout = timeout
        self._clock = clock

    async def post(self, endpoint: Endpoint, event: OutboxEvent) -> Answer:
        body = body_of(event)
        headers = signed_headers(endpoint.secret, event.id, body, self._clock())
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        started = time.monotonic()
        try:
            response = await self._client.post(endpoint.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Answer(None, time.monotonic() - started, f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return Answer(None, time.monotonic() - started, f"{type(exc).__name__}: {exc}"[:200])
        return Answer(response.status_code, time.monotonic() - started)

    async def aclose(self) -> None:
        await self._client.aclose()
