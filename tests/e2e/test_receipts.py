"""POST /api/receipts/{channel}/: providers' receipts, checked as each signs them.

See docs/sending-codes.md#receipts.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from referrals.adapters.sms.receipts.twilio import twilio_signature
from referrals.adapters.sms.webhook import signature
from tests.e2e.conftest import Api, MakeApi, assert_problem, login
from tests.e2e.test_metrics import samples

SECRET = b"w" * 32
PUBLIC_URL = "https://auth.example.com"
RECEIPTS: dict[str, Any] = {
    "sms_gateway": "webhook",
    "sms_webhook_url": "https://sms.example.com/send",
    "sms_webhook_secret": SECRET,
    "twilio_auth_token": "twilio-token",
    "receipt_secret": "url-secret",
    "public_url": PUBLIC_URL,
}


def signed(report: dict[str, str], api: Api, secret: bytes = SECRET) -> dict[str, Any]:
    body = json.dumps(report).encode()
    timestamp = str(int(api.clock.now()))
    headers = {
        "Content-Type": "application/json",
        "X-Referrals-Timestamp": timestamp,
        "X-Referrals-Signature": signature(secret, timestamp, body),
    }
    return {"content": body, "headers": headers}


async def test_a_signed_receipt_marks_the_code_delivered(make_api: MakeApi) -> None:
    api = await make_api(**RECEIPTS)
    challenge = await login(api.client)
    [sms] = api.delivered()
    report = {"id": sms.idempotency_key, "status": "delivered"}

    answer = await api.client.post("/api/receipts/webhook/", **signed(report, api))

    assert answer.status_code == 200, answer.text
    status = await api.client.get(f"/api/verify/{challenge.token}/")
    assert status.json() == {"channel": "webhook", "status": "delivered", "failed_over": False}


async def test_a_receipt_with_a_bad_signature_is_refused_and_changes_nothing(
    make_api: MakeApi,
) -> None:
    api = await make_api(**RECEIPTS)
    challenge = await login(api.client)
    [sms] = api.delivered()
    report = {"id": sms.idempotency_key, "status": "delivered"}

    answer = await api.client.post("/api/receipts/webhook/", **signed(report, api, b"x" * 32))

    assert_problem(answer, 403, "receipt_refused")
    status = await api.client.get(f"/api/verify/{challenge.token}/")
    assert status.json()["status"] == "sent"


async def test_a_channel_without_credentials_takes_no_receipts(api: Api) -> None:
    answer = await api.client.post("/api/receipts/twilio/", content=b"MessageSid=SM1")
    body = assert_problem(answer, 403, "receipt_refused")
    assert "twilio" in body["detail"]


async def test_the_refusal_is_in_russian_when_asked(api: Api) -> None:
    answer = await api.client.post(
        "/api/receipts/smsc/", content=b"id=1", headers={"Accept-Language": "ru"}
    )
    body = assert_problem(answer, 403, "receipt_refused")
    assert "отчёты" in body["detail"]


def twilio_post(api: Api, url: str) -> dict[str, Any]:
    fields = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    sign = twilio_signature("twilio-token", url, list(fields.items()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign,
    }
    return {"content": urlencode(fields).encode(), "headers": headers}


async def test_twilio_is_checked_against_the_public_url_it_called(make_api: MakeApi) -> None:
    api = await make_api(**RECEIPTS)
    public = f"{PUBLIC_URL}{api.prefix}/api/receipts/twilio/"
    internal = f"http://testserver.local{api.prefix}/api/receipts/twilio/"

    accepted = await api.client.post("/api/receipts/twilio/", **twilio_post(api, public))
    refused = await api.client.post("/api/receipts/twilio/", **twilio_post(api, internal))

    assert accepted.status_code == 200, accepted.text  # an unknown message: nothing to change
    assert_problem(refused, 403, "receipt_refused")


async def test_smsru_gets_the_answer_it_waits_for(make_api: MakeApi) -> None:
    api = await make_api(**RECEIPTS)
    body = urlencode({"data[0]": "sms_status\n000-1\n103"}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    answer = await api.client.post(
        "/api/receipts/smsru/?key=url-secret", content=body, headers=headers
    )
    refused = await api.client.post("/api/receipts/smsru/?key=wrong", content=body, headers=headers)

    assert (answer.status_code, answer.text) == (200, "100")
    assert_problem(refused, 403, "receipt_refused")


async def test_a_signed_but_unreadable_receipt_is_a_validation_error(make_api: MakeApi) -> None:
    api = await make_api(**RECEIPTS)
    answer = await api.client.post("/api/receipts/webhook/", **signed({"id": "x"}, api))
    assert_problem(answer, 400, "validation_error")


@pytest.mark.standalone
async def test_receipts_and_verified_logins_are_counted_by_channel(make_api: MakeApi) -> None:
    api = await make_api(**RECEIPTS)
    challenge = await login(api.client)
    [sms] = api.delivered()
    api.clock.advance(2)
    report = {"id": sms.idempotency_key, "status": "delivered"}
    assert (await api.client.post("/api/receipts/webhook/", **signed(report, api))).is_success
    verified = await api.client.post(
        f"/api/verify/{challenge.token}/", json={"confirm_code": challenge.code}
    )
    assert verified.status_code == 200, verified.text

    found = samples((await api.client.get("/metrics")).text)

    route = {"route": "webhook", "channel": "webhook"}
    assert (
        found["referrals_deliveries_total", frozenset((route | {"outcome": "sent"}).items())] == 1
    )
    delivered = frozenset((route | {"outcome": "delivered"}).items())
    assert found["referrals_deliveries_total", delivered] == 1
    receipt = frozenset({"channel": "webhook"}.items())
    assert found["referrals_receipt_seconds_count", receipt] == 1
    assert found["referrals_receipt_seconds_sum", receipt] == 2.0
    by_country = frozenset({"channel": "webhook", "country": "RU"}.items())
    assert found["referrals_codes_delivered_total", by_country] == 1
    assert found["referrals_codes_verified_total", by_country] == 1
