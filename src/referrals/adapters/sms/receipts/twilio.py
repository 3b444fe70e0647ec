"""Twilio's ``StatusCallback``: a form POST signed in ``X-Twilio-Signature``.

The signature is base64(HMAC-SHA1(auth token, URL + each POST field's
name and value, sorted by name)), the URL being the full one Twilio called
(query included). ``MessageStatus`` is ``queued``, ``sending``, ``sent``,
``delivered``, ``undelivered``, ``failed`` (among others).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from referrals.adapters.sms.receipts.signing import form, same, unreadable
from referrals.application.errors import ReceiptRefused
from referrals.application.receipts import Callback, Receipt, Receipts, ReceiptStatus

SIGNATURE_HEADER = "x-twilio-signature"
STATUSES = {
    "accepted": ReceiptStatus.QUEUED,
    "scheduled": ReceiptStatus.QUEUED,
    "queued": ReceiptStatus.QUEUED,
    "sending": ReceiptStatus.SENT,
    "sent": ReceiptStatus.SENT,
    "delivered": ReceiptStatus.DELIVERED,
    "read": ReceiptStatus.DELIVERED,
    "undelivered": ReceiptStatus.FAILED,
    "failed": ReceiptStatus.FAILED,
    "canceled": ReceiptStatus.FAILED,
}


def twilio_signature(auth_token: str, url: str, fields: list[tuple[str, str]]) -> str:
    """What Twilio puts in ``X-Twilio-Signature`` for a POST of ``fields`` to ``url``."""
    signed = url + "".join(name + value for name, value in sorted(fields))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioReceipts:
    def __init__(self, auth_token: str) -> None:
        self._auth_token = auth_token

    def read(self, callback: Callback, now: float) -> Receipts:
        fields = form(callback.body)
        given = callback.headers.get(SIGNATURE_HEADER, "")
        if not given or not same(twilio_signature(self._auth_token, callback.url, fields), given):
            raise ReceiptRefused()
        values = dict(fields)
        sid, status = values.get("MessageSid", ""), values.get("MessageStatus", "")
        if not sid or not status:
            raise unreadable()
        if status not in STATUSES:
            return Receipts(())
        return Receipts((Receipt(sid, STATUSES[status], detail=status),), reply="")
