"""Receipt readers: each provider's delivery callbacks, checked as it signs them.

Each reader is a :class:`~referrals.application.receipts.ReceiptReader`:
it refuses a callback whose signature does not match and reads the body
into receipts. :func:`receipt_readers` builds the ones the settings give
credentials for. See docs/sending-codes.md.
"""

from __future__ import annotations

from referrals.adapters.sms.receipts.smsc import SmscReceipts
from referrals.adapters.sms.receipts.smsru import SmsRuReceipts
from referrals.adapters.sms.receipts.telegram import TelegramReceipts
from referrals.adapters.sms.receipts.twilio import TwilioReceipts
from referrals.adapters.sms.receipts.webhook import WebhookReceipts
from referrals.application.receipts import ReceiptReader
from referrals.settings import Settings

__all__ = [
    "SmsRuReceipts",
    "SmscReceipts",
    "TelegramReceipts",
    "TwilioReceipts",
    "WebhookReceipts",
    "receipt_readers",
]


def receipt_readers(settings: Settings) -> dict[str, ReceiptReader]:
    """A reader per channel whose secret the settings hold; other channels' receipts are refused."""
    readers: dict[str, ReceiptReader] = {}
    if settings.telegram_token:
        readers["telegram"] = TelegramReceipts(settings.telegram_token)
    if settings.twilio_auth_token:
        readers["twilio"] = TwilioReceipts(settings.twilio_auth_token)
    if settings.receipt_secret:
        readers["smsru"] = SmsRuReceipts(settings.receipt_secret)
        readers["smsc"] = SmscReceipts(settings.receipt_secret)
    if settings.sms_webhook_secret:
        readers["webhook"] = WebhookReceipts(settings.sms_webhook_secret)
    return readers
