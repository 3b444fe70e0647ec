"""Telegram Gateway API as https://core.telegram.org/gateway/api documents it.

Every method wants ``Authorization: Bearer <token>`` and answers
``{"ok": true, "result": RequestStatus}`` or ``{"ok": false, "error": NAME}``.
``sendVerificationMessage`` takes the ``request_id`` of a ``checkSendAbility``
for the same number, a code of 4 to 8 digits, a ``ttl`` of 30 to 3600
seconds, a ``payload`` of at most 128 bytes and an HTTPS ``callback_url``.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from referrals.testing.contracts.sms_gateway import Delivered, Trouble
from tests.fakes.server import FakeProvider, Refused, Request

TOKEN = "AAHt-telegram-gateway-token-for-tests-0123456789"
PHONE_NUMBER = re.compile(r"^\+?[1-9]\d{6,14}$")
CODE = re.compile(r"^\d{4,8}$")
ERRORS = {
    Trouble.BUSY: (429, "TOO_MANY_REQUESTS"),
    Trouble.NO_BALANCE: (400, "BALANCE_NOT_ENOUGH"),
    Trouble.INVALID_NUMBER: (400, "PHONE_NUMBER_INVALID"),
    Trouble.UNREACHABLE: (400, "PHONE_NUMBER_NOT_FOUND"),
}


def refused(status: int, error: str) -> Refused:
    return Refused(status, {"ok": False, "error": error})


@dataclass
class FakeTelegramGateway(FakeProvider):
    troubles: frozenset[Trouble] = frozenset(Trouble)
    token: str = TOKEN
    checks: dict[str, str] = field(default_factory=dict)
    """request_id -> the number checkSendAbility was asked about."""
    callbacks: list[str] = field(default_factory=list)
    sent_requests: set[str] = field(default_factory=set)
    """request_ids a message was sent for (``checkVerificationStatus`` says so)."""

    def sends(self, request: Request) -> bool:
        return request.path == "/sendVerificationMessage"

    def answer(self, request: Request, *, bad_credentials: bool) -> tuple[int, Any]:
        if bad_credentials or request.headers.get("authorization") != f"Bearer {self.token}":
            raise refused(401, "ACCESS_TOKEN_INVALID")
        body = request.json()
        if not isinstance(body, dict):
            raise refused(400, "BAD_REQUEST")
        if request.path == "/checkVerificationStatus":
            return 200, {"ok": True, "result": self._lookup(str(body.get("request_id")))}
        phone = body.get("phone_number")
        if not isinstance(phone, str) or not PHONE_NUMBER.match(phone):
            raise refused(400, "PHONE_NUMBER_INVALID")
        if request.path == "/checkSendAbility":
            request_id = secrets.token_hex(8)
            with self.lock:
                self.checks[request_id] = phone
            return 200, {"ok": True, "result": self._status(request_id, phone, None)}
        if request.path == "/sendVerificationMessage":
            return 200, {"ok": True, "result": self._send(body, phone)}
        raise refused(404, "METHOD_NOT_FOUND")

    def _send(self, body: dict[str, Any], phone: str) -> dict[str, Any]:
        request_id = body.get("request_id")
        with self.lock:
            checked = self.checks.get(str(request_id))
        if request_id is not None and checked != phone:
            raise refused(400, "REQUEST_ID_INVALID")
        code = body.get("code")
        if not isinstance(code, str) or not CODE.match(code):
            raise refused(400, "CODE_INVALID")
        ttl = body.get("ttl", 30)
        if not isinstance(ttl, int) or not 30 <= ttl <= 3600:
            raise refused(400, "TTL_INVALID")
        payload = body.get("payload", "")
        if not isinstance(payload, str) or len(payload.encode()) > 128:
            raise refused(400, "PAYLOAD_INVALID")
        callback = body.get("callback_url")
        if callback is not None:
            if not isinstance(callback, str) or not callback.startswith("https://"):
                raise refused(400, "CALLBACK_URL_INVALID")
            self.callbacks.append(callback)
        request_id = str(request_id or secrets.token_hex(8))
        with self.lock:
            if request_id in self.sent_requests:
                raise refused(400, "REQUEST_ID_ALREADY_USED")
            self.sent_requests.add(request_id)
            self.checks[request_id] = phone
        self.deliver(Delivered(phone, None, code))
        return self._status(request_id, phone, payload)

    def _lookup(self, request_id: str) -> dict[str, Any]:
        with self.lock:
            phone, sent = self.checks.get(request_id), request_id in self.sent_requests
        if phone is None:
            raise refused(400, "REQUEST_ID_INVALID")
        return self._status(request_id, phone, "" if sent else None)

    @staticmethod
    def _status(request_id: str, phone: str, payload: str | None) -> dict[str, Any]:
        status: dict[str, Any] = {
            "request_id": request_id,
            "phone_number": phone.removeprefix("+"),
            "request_cost": 0.01,
            "remaining_balance": 9.99,
        }
        if payload is not None:
            status["delivery_status"] = {"status": "sent", "updated_at": int(time.time())}
            status["payload"] = payload
        return status

    def trouble(self, trouble: Trouble, request: Request) -> tuple[int, Any]:
        status, error = ERRORS[trouble]
        return status, {"ok": False, "error": error}
