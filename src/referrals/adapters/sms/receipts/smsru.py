"""SMS.ru's status callbacks: a form POST of ``data[]`` entries, each
``sms_status``, the message id and a status code on three lines.

SMS.ru signs nothing, so the callback URL carries our secret. It wants the
answer ``100``, else it calls again. Codes: 100 queued, 101 and 102 on the
way, 103 delivered, 104 to 108 and 150 not delivered.
"""

from __future__ import annotations

from referrals.adapters.sms.receipts.signing import check_key, form
from referrals.application.receipts import Callback, Receipt, Receipts, ReceiptStatus

STATUSES = {
    "100": ReceiptStatus.QUEUED,
    "101": ReceiptStatus.SENT,
    "102": ReceiptStatus.SENT,
    "103": ReceiptStatus.DELIVERED,
    "110": ReceiptStatus.DELIVERED,
    **dict.fromkeys(("104", "105", "106", "107", "108", "150"), ReceiptStatus.FAILED),
}
ACKNOWLEDGED = "100"


class SmsRuReceipts:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def read(self, callback: Callback, now: float) -> Receipts:
        check_key(self._secret, callback.key)
        receipts = []
        for name, value in form(callback.body):
            if not name.startswith("data["):
                continue
            kind, _, rest = value.partition("\n")
            sms_id, _, status = rest.partition("\n")
            status = status.strip()
            if kind.strip() == "sms_status" and sms_id.strip() and status in STATUSES:
                receipts.append(Receipt(sms_id.strip(), STATUSES[status], detail=status))
        return Receipts(tuple(receipts), reply=ACKNOWLEDGED)
