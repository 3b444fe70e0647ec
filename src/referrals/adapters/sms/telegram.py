"""Telegram Gateway: the code goes to the person's Telegram app, not by SMS.

The Gateway API (https://core.telegram.org/gateway/api) takes the code and
its lifetime, not a text: Telegram writes the message itself. Each message
is two calls, authorised by ``Authorization: Bearer <token>``:

1. ``checkSendAbility`` asks whether the number can get a message at all (a
   number without a Telegram account cannot: the route goes on to the next
   channel); its ``request_id`` makes the send that follows free of a second
   charge.
2. ``sendVerificationMessage`` sends ``code`` with ``ttl`` (Telegram refunds
   a message not delivered within it) and, when the service's public URL is
   known, the ``callback_url`` its delivery reports go to.

See docs/sending-codes.md for how its answers are sorted.
"""

from __future__ import annotations

from typing import Any

import httpx

from referrals.adapters.sms.http_slots import CONNECTIONS
from referrals.adapters.sms.provider import (
    ProviderClient,
    ProviderGatewayBase,
    Remembered,
    provider_key,
    status_failure,
)
from referrals.application.errors import DeliveryFailed, Failure
from referrals.domain.messages import SmsMessage

RECEIPT_PATH = "/api/receipts/telegram/"
TTL_RANGE = (30, 3600)
"""The ``ttl`` the Gateway accepts, in seconds."""

UNREACHABLE = ("PHONE_NUMBER_NOT_FOUND", "PHONE_NUMBER_BANNED", "USER_NOT_FOUND", "NOT_AVAILABLE")
"""Error names that say this number cannot get a Telegram message: another channel may."""
INVALID = ("PHONE_NUMBER_INVALID",)
BALANCE = ("BALANCE",)
BUSY = ("FLOOD", "TOO_MANY", "INTERNAL", "TIMEOUT", "UNAVAILABLE")


def error_failure(error: str) -> Failure:
    """How an ``{"ok": false, "error": ...}`` answer failed, by the error's name."""
    name = error.upper()
    if any(mark in name for mark in BALANCE):
        return Failure.BALANCE
    if any(mark in name for mark in BUSY):
        return Failure.TRANSIENT
    if any(mark in name for mark in UNREACHABLE):
        return Failure.UNREACHABLE
    return Failure.PERMANENT


class TelegramGateway(ProviderGatewayBase):
    """Sends codes through the Telegram Gateway API (see the module's docstring)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        public_url: str | None,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        self._http = ProviderClient("telegram", base_url, timeout, (token,), client, connections)
        self._headers = {"Authorization": f"Bearer {token}"}
        # Telegram posts its reports to HTTPS only: a plain-http public URL
        # (development) would get the whole message refused.
        self._callback_url = (
            public_url.rstrip("/") + RECEIPT_PATH
            if public_url and public_url.startswith("https://")
            else None
        )
        self._checked = Remembered()
        """checkSendAbility's request_id per message, until its send is answered."""

    @property
    def longest_send(self) -> float:
        """Two requests, each within the timeout."""
        return 2 * self._http.longest_send

    async def _send(self, message: SmsMessage) -> str:
        key = message.idempotency_key
        request_id = self._checked.get(key) or self._checked.put(key, await self._check(message))
        low, high = TTL_RANGE
        body: dict[str, Any] = {
            "phone_number": message.phone,
            "request_id": request_id,
            "code": message.code,
            "ttl": max(low, min(high, int(message.ttl))),
            "payload": provider_key(key),
        }
        if self._callback_url:
            body["callback_url"] = self._callback_url
        try:
            result = await self._call("/sendVerificationMessage", body)
        except DeliveryFailed as exc:
            if exc.failure is not Failure.TRANSIENT:  # no retry will come
                self._checked.pop(key)
            raise
        self._checked.pop(key)
        return str(result.get("request_id") or request_id)

    async def _sent_already(self, message: SmsMessage) -> str | None:
        """``checkVerificationStatus`` of the check's request: a message that
        has a delivery status was sent. A lookup that fails for now fails the
        try (no second message on a guess)."""
        request_id = self._checked.get(message.idempotency_key)
        if not request_id:
            return None
        try:
            result = await self._call("/checkVerificationStatus", {"request_id": request_id})
        except DeliveryFailed as exc:
            if exc.failure is Failure.TRANSIENT:
                raise
            return None
        if not result.get("delivery_status"):
            return None
        self._checked.pop(message.idempotency_key)
        return request_id

    async def _check(self, message: SmsMessage) -> str:
        result = await self._call("/checkSendAbility", {"phone_number": message.phone})
        request_id = result.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise self._http.failed("checkSendAbility gave no request_id", Failure.TRANSIENT)
        return request_id

    async def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.post(method, json=body, headers=self._headers)
        answer = self._http.json(response)
        if isinstance(answer, dict) and answer.get("ok") is True:
            result = answer.get("result")
            return result if isinstance(result, dict) else {}
        error = str(answer.get("error", "")) if isinstance(answer, dict) else ""
        status = response.status_code
        failure = error_failure(error) if error else status_failure(status)
        if status_failure(status) is Failure.TRANSIENT:
            failure = Failure.TRANSIENT
        raise self._http.failed(f"{method.lstrip('/')}: HTTP {status} {error}".strip(), failure)
