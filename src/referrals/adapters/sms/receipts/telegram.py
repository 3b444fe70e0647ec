"""Telegram Gateway's delivery reports: a JSON ``RequestStatus`` posted to the
``callback_url`` of ``sendVerificationMessage``.

Its ``X-Request-Signature`` is hex HMAC-SHA256 of the ``X-Request-Timestamp``
header, a newline and the body, keyed with the SHA-256 of the API token.
``delivery_status.status`` is ``sent``, ``delivered``, ``read``,
``expired`` or ``revoked``; ``request_id`` is the message id the gateway
got when sending (its ``payload`` is a digest, never the login).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from referrals.adapters.sms.receipts.signing import check_fresh, same, unreadable
from referrals.application.errors import ReceiptRefused
from referrals.application.receipts import Callback, Receipt, Receipts, ReceiptStatus

TIMESTAMP_HEADER = "x-request-timestamp"
SIGNATURE_HEADER = "x-request-signature"
STATUSES = {
    "sent": ReceiptStatus.SENT,
    "delivered": ReceiptStatus.DELIVERED,
    "read": ReceiptStatus.DELIVERED,
    "expired": ReceiptStatus.FAILED,
    "revoked": ReceiptStatus.FAILED,
}


def telegram_signature(token: str, timestamp: str, body: bytes) -> str:
    """What Telegram Gateway puts in ``X-Request-Signature``."""
    key = hashlib.sha256(token.encode()).digest()
    return hmac.new(key, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


class TelegramReceipts:
    def __init__(self, token: str) -> None:
        self._token = token

    def read(self, callback: Callback, now: float) -> Receipts:
        timestamp = callback.headers.get(TIMESTAMP_HEADER, "")
        given = callback.headers.get(SIGNATURE_HEADER, "")
        expected = telegram_signature(self._token, timestamp, callback.body)
        if not timestamp or not given or not same(expected, given.lower()):
            raise ReceiptRefused()
        check_fresh(timestamp, now)
        try:
            report = json.loads(callback.body)
            request_id = str(report["request_id"])
            status = str((report.get("delivery_status") or {}).get("status", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise unreadable() from None
        if status not in STATUSES:
            return Receipts(())
        return Receipts((Receipt(request_id, STATUSES[status], detail=status),))
