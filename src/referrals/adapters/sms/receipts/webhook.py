"""Receipts from the operator's own SMS service (the ``webhook`` channel).

It posts ``{"id": <the Idempotency-Key of the message>, "status": "queued"
| "sent" | "delivered" | "failed"}`` signed as our webhook signs its
messages (``X-Referrals-Timestamp`` and ``X-Referrals-Signature`` with
``REFERRALS_SMS_WEBHOOK_SECRET``; see the webhook gateway).
"""

from __future__ import annotations

import json

from referrals.adapters.sms.receipts.signing import check_fresh, same, unreadable
from referrals.adapters.sms.webhook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from referrals.application.errors import ReceiptRefused
from referrals.application.receipts import Callback, Receipt, Receipts, ReceiptStatus


class WebhookReceipts:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def read(self, callback: Callback, now: float) -> Receipts:
        timestamp = callback.headers.get(TIMESTAMP_HEADER.lower(), "")
        given = callback.headers.get(SIGNATURE_HEADER.lower(), "")
        if not timestamp or not same(signature(self._secret, timestamp, callback.body), given):
            raise ReceiptRefused()
        check_fresh(timestamp, now)
        try:
            report = json.loads(callback.body)
            key, status = str(report["id"]), ReceiptStatus(report["status"])
        except (ValueError, KeyError, TypeError):
            raise unreadable() from None
        return Receipts((Receipt(key, status, login=key, detail=str(status)),))
