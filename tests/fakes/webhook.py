"""An operator's SMS service behind the ``webhook`` channel, as docs/sending-codes.md
describes the contract: a signed JSON POST ``{"id", "to", "text"}`` with an
``Idempotency-Key``; 2xx takes it (a repeat of a key already taken is
dropped, as the receiver is told to), 429 and 5xx mean "later", any other
4xx refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from referrals.testing.contracts.sms_gateway import Delivered, Trouble
from tests.fakes.server import FakeProvider, Refused, Request

SECRET = b"webhook-secret-for-the-contract-0123456789"
ERRORS = {
    Trouble.BUSY: 503,
    Trouble.INVALID_NUMBER: 422,
}


@dataclass
class FakeWebhookReceiver(FakeProvider):
    troubles: frozenset[Trouble] = frozenset(
        {Trouble.BUSY, Trouble.SLOW, Trouble.INVALID_NUMBER, Trouble.BAD_CREDENTIALS}
    )
    taken: set[str] = field(default_factory=set)

    def answer(self, request: Request, *, bad_credentials: bool) -> tuple[int, Any]:
        timestamp = request.headers.get("x-referrals-timestamp", "")
        mac = hmac.new(SECRET, timestamp.encode() + b"." + request.body, hashlib.sha256)
        given = request.headers.get("x-referrals-signature", "")
        if bad_credentials or not hmac.compare_digest("sha256=" + mac.hexdigest(), given):
            raise Refused(401, {"error": "bad signature"})
        body = request.json()
        key = request.headers.get("idempotency-key", "")
        if not isinstance(body, dict) or body.get("id") != key or not key:
            raise Refused(400, {"error": "id and Idempotency-Key must be the message's key"})
        with self.lock:
            repeat = key in self.taken
            self.taken.add(key)
        if not repeat:
            self.deliver(Delivered(str(body.get("to")), str(body.get("text"))))
        return 200, {"ok": True}

    def trouble(self, trouble: Trouble, request: Request) -> tuple[int, Any]:
        return ERRORS[trouble], {"error": trouble.value}
