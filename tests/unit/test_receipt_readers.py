"""Each provider's receipts are read only when signed as that provider signs them.

See docs/sending-codes.md#receipts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from referrals.adapters.sms.receipts import (
    SmscReceipts,
    SmsRuReceipts,
    TelegramReceipts,
    TwilioReceipts,
    WebhookReceipts,
)
from referrals.adapters.sms.receipts.twilio import twilio_signature
from referrals.adapters.sms.webhook import signature
from referrals.application.errors import ReceiptRefused
from referrals.application.receipts import Callback, Receipt, ReceiptStatus
from referrals.domain.errors import InvalidInput

NOW = 1_800_000_000.0
URL = "https://auth.example.com/api/receipts/twilio/"
TOKEN = "telegram-token"


def test_the_twilio_signature_is_the_one_twilio_documents() -> None:
    # Twilio's own worked example (webhook security docs): auth token 12345.
    fields = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, fields) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


AUTH = "auth"


def twilio_callback(fields: dict[str, str], *, token: str = AUTH, url: str = URL) -> Callback:
    body = urlencode(fields).encode()
    sign = twilio_signature(token, url, list(fields.items()))
    return Callback(URL, {"x-twilio-signature": sign}, body)


def test_a_signed_twilio_callback_gives_its_status() -> None:
    callback = twilio_callback({"MessageSid": "SM1", "MessageStatus": "delivered", "To": "+1"})
    read = TwilioReceipts("auth").read(callback, NOW)
    assert read.receipts == (Receipt("SM1", ReceiptStatus.DELIVERED, detail="delivered"),)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("queued", "queued"), ("sent", "sent"), ("undelivered", "failed"), ("failed", "failed")],
)
def test_twilio_statuses_map_to_ours(status: str, expected: str) -> None:
    callback = twilio_callback({"MessageSid": "SM1", "MessageStatus": status})
    assert TwilioReceipts("auth").read(callback, NOW).receipts[0].status == expected


@pytest.mark.parametrize(
    "callback",
    [
        twilio_callback({"MessageSid": "SM1", "MessageStatus": "delivered"}, token="other"),
        twilio_callback({"MessageSid": "SM1", "MessageStatus": "delivered"}, url=URL + "?x=1"),
        Callback(URL, {}, b"MessageSid=SM1&MessageStatus=delivered"),
    ],
    ids=["wrong token", "another URL", "unsigned"],
)
def test_a_twilio_callback_signed_otherwise_is_refused(callback: Callback) -> None:
    with pytest.raises(ReceiptRefused):
        TwilioReceipts("auth").read(callback, NOW)


def test_a_tampered_twilio_body_is_refused() -> None:
    good = twilio_callback({"MessageSid": "SM1", "MessageStatus": "failed"})
    tampered = Callback(good.url, good.headers, good.body.replace(b"failed", b"delivered"))
    with pytest.raises(ReceiptRefused):
        TwilioReceipts("auth").read(tampered, NOW)


def telegram_callback(
    report: dict[str, object], *, at: float = NOW, token: str = TOKEN
) -> Callback:
    body = json.dumps(report).encode()
    timestamp = str(int(at))
    key = hashlib.sha256(token.encode()).digest()
    sign = hmac.new(key, f"{timestamp}\n".encode() + body, hashlib.sha256).hexdigest()
    headers = {"x-request-timestamp": timestamp, "x-request-signature": sign}
    return Callback("https://x/api/receipts/telegram/", headers, body)


REPORT = {
    "request_id": "r-1",
    "phone_number": "+79991234567",
    "request_cost": 0.01,
    "delivery_status": {"status": "delivered", "updated_at": 1_800_000_000},
    "payload": "a-digest-of-the-key",
}


def test_a_signed_telegram_report_gives_its_request_and_status() -> None:
    read = TelegramReceipts(TOKEN).read(telegram_callback(REPORT), NOW)
    assert read.receipts == (Receipt("r-1", ReceiptStatus.DELIVERED, detail="delivered"),)


@pytest.mark.parametrize(
    "callback",
    [telegram_callback(REPORT, token="other"), telegram_callback(REPORT, at=NOW - 3600)],
    ids=["wrong token", "an hour old"],
)
def test_a_telegram_report_signed_otherwise_or_replayed_is_refused(callback: Callback) -> None:
    with pytest.raises(ReceiptRefused):
        TelegramReceipts(TOKEN).read(callback, NOW)


def test_a_signed_telegram_report_that_is_not_json_is_invalid_input() -> None:
    callback = telegram_callback(REPORT)
    timestamp = callback.headers["x-request-timestamp"]
    key = hashlib.sha256(TOKEN.encode()).digest()
    body = b"not json"
    sign = hmac.new(key, f"{timestamp}\n".encode() + body, hashlib.sha256).hexdigest()
    headers = {"x-request-timestamp": timestamp, "x-request-signature": sign}
    with pytest.raises(InvalidInput):
        TelegramReceipts(TOKEN).read(Callback(callback.url, headers, body), NOW)


def test_smsru_reads_every_entry_and_answers_100() -> None:
    body = urlencode(
        [("data[0]", "sms_status\n000-1\n103"), ("data[1]", "sms_status\n000-2\n104")]
    ).encode()
    read = SmsRuReceipts("s3cret").read(Callback("u", {}, body, key="s3cret"), NOW)
    assert read.reply == "100"
    assert read.receipts == (
        Receipt("000-1", ReceiptStatus.DELIVERED, detail="103"),
        Receipt("000-2", ReceiptStatus.FAILED, detail="104"),
    )


@pytest.mark.parametrize("reader", [SmsRuReceipts("s3cret"), SmscReceipts("s3cret")])
@pytest.mark.parametrize("key", ["", "wrong"])
def test_smsru_and_smsc_refuse_a_url_without_the_secret(
    reader: SmsRuReceipts | SmscReceipts, key: str
) -> None:
    body = b"id=1&status=1&data[0]=sms_status%0A1%0A103"
    with pytest.raises(ReceiptRefused):
        reader.read(Callback("u", {}, body, key=key), NOW)


def test_smsc_reads_its_status() -> None:
    body = urlencode({"id": "42", "phone": "79991234567", "status": "1"}).encode()
    read = SmscReceipts("s3cret").read(Callback("u", {}, body, key="s3cret"), NOW)
    assert read.receipts == (Receipt("42", ReceiptStatus.DELIVERED, detail="1"),)


def webhook_callback(report: dict[str, str], secret: bytes = b"w" * 32) -> Callback:
    body = json.dumps(report).encode()
    timestamp = str(int(NOW))
    headers = {
        "x-referrals-timestamp": timestamp,
        "x-referrals-signature": signature(secret, timestamp, body),
    }
    return Callback("u", headers, body)


def test_a_webhook_receipt_names_its_login_by_the_idempotency_key() -> None:
    callback = webhook_callback({"id": "login-1", "status": "delivered"})
    read = WebhookReceipts(b"w" * 32).read(callback, NOW)
    assert read.receipts == (
        Receipt("login-1", ReceiptStatus.DELIVERED, login="login-1", detail="delivered"),
    )


def test_a_webhook_receipt_signed_with_another_secret_is_refused() -> None:
    callback = webhook_callback({"id": "login-1", "status": "delivered"}, secret=b"x" * 32)
    with pytest.raises(ReceiptRefused):
        WebhookReceipts(b"w" * 32).read(callback, NOW)


def test_a_signed_webhook_receipt_with_an_unknown_status_is_invalid_input() -> None:
    callback = webhook_callback({"id": "login-1", "status": "lost"})
    with pytest.raises(InvalidInput):
        WebhookReceipts(b"w" * 32).read(callback, NOW)
