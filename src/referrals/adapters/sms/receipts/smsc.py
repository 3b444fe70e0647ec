"""SMSC.ru's status callbacks: a form POST with ``id``, ``phone`` and ``status``.

The callback URL carries our secret (SMSC's own check needs the account's
password on our side). Statuses: -1 waiting, 0 handed to the operator,
1 delivered, 2 read, 3 expired, 20 and above not delivered.
"""

from __future__ import annotations

from referrals.adapters.sms.receipts.signing import check_key, form, unreadable
from referrals.application.receipts import Callback, Receipt, Receipts, ReceiptStatus

STATUSES = {
    "-1": ReceiptStatus.QUEUED,
    "0": ReceiptStatus.SENT,
    "1": ReceiptStatus.DELIVERED,
    "2": ReceiptStatus.DELIVERED,
    "3": ReceiptStatus.FAILED,
    **dict.fromkeys(("20", "22", "23", "24", "25"), ReceiptStatus.FAILED),
}


class SmscReceipts:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def read(self, callback: Callback, now: float) -> Receipts:
        check_key(self._secret, callback.key)
        values = dict(form(callback.body))
        sms_id, status = values.get("id", ""), values.get("status", "")
        if not sms_id or not status:
            raise unreadable()
        if status not in STATUSES:
            return Receipts(())
        return Receipts((Receipt(sms_id, STATUSES[status], detail=status),))
