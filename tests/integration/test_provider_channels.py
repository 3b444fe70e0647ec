"""Provider channels chosen by settings, end to end through the service, each
against its fake on 127.0.0.1 (tests/fakes)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from referrals.application.delivery_status import StatusQuery
from referrals.application.request_code import CodeRequest
from referrals.domain.delivery import Status
from referrals.domain.routes import parse_routes
from referrals.service import Adapters, open_service
from referrals.settings import CHANNELS, Settings
from referrals.testing.contracts.sms_gateway import Trouble
from tests.fakes import smsc, smsru, telegram, twilio
from tests.fakes.server import serving

PHONE = "+79991234567"
SECRET = b"provider-channels-secret-0123456789"


@pytest.fixture
def fake_telegram() -> Iterator[telegram.FakeTelegramGateway]:
    with serving(telegram.FakeTelegramGateway()) as fake:
        yield fake


async def test_a_telegram_route_sends_the_logins_code_with_its_ttl_and_callback(
    fake_telegram: telegram.FakeTelegramGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(
        secret_key=SECRET,
        sms_routes=parse_routes("ru=telegram;*=console", CHANNELS),
        telegram_token=telegram.TOKEN,
        telegram_base_url=fake_telegram.url,
        public_url="https://login.example.com",
    )
    async with open_service(settings, adapters=Adapters.in_memory()) as api:
        requested = await api.request_code(CodeRequest(PHONE, "10.0.0.1", language="ru"))
        assert await api.drain_deliveries(10)
        [delivered] = fake_telegram.delivered()
        status = await api.delivery_status(StatusQuery(requested.token, "10.0.0.1"))
    assert delivered.phone == PHONE
    assert delivered.code is not None and len(delivered.code) == 4
    assert fake_telegram.callbacks == ["https://login.example.com/api/receipts/telegram/"]
    [check, send] = fake_telegram.requests
    assert check.path == "/checkSendAbility"
    ttl = send.json()["ttl"]
    assert 30 <= ttl <= settings.policy.code_ttl
    assert send.json()["payload"] not in requested.token
    assert status.channel == "telegram"
    assert status.status is Status.SENT
    # Every record of the way, at DEBUG: no token, no code, no full phone.
    assert "through telegram" in caplog.text
    for secret in (telegram.TOKEN, delivered.code, PHONE, requested.token):
        assert secret not in caplog.text


async def test_a_chain_of_text_providers_carries_the_russian_sms_to_the_first_taker() -> None:
    # SMS.ru has no route to the number: SMSC gets the same text; Twilio is
    # next in the chain and asked nothing (no receipt wait: it outlasts the code).
    with (
        serving(smsru.FakeSmsRu()) as fake_smsru,
        serving(smsc.FakeSmsc()) as fake_smsc,
        serving(twilio.FakeTwilio()) as fake_twilio,
    ):
        settings = Settings(
            secret_key=SECRET,
            sms_routes=parse_routes("ru=smsru,smsc,twilio", CHANNELS),
            receipt_timeout=3600,
            smsru_api_id=smsru.API_ID,
            smsru_base_url=fake_smsru.url,
            smsc_login=smsc.LOGIN,
            smsc_password=smsc.PASSWORD,
            smsc_base_url=fake_smsc.url,
            twilio_account_sid=twilio.ACCOUNT_SID,
            twilio_auth_token=twilio.AUTH_TOKEN,
            twilio_from=twilio.SENDER,
            twilio_base_url=fake_twilio.url,
        )
        fake_smsru.answer_next(Trouble.UNREACHABLE)
        async with open_service(settings, adapters=Adapters.in_memory()) as api:
            requested = await api.request_code(CodeRequest(PHONE, "10.0.0.1", language="ru"))
            assert await api.drain_deliveries(10)
            status = await api.delivery_status(StatusQuery(requested.token, "10.0.0.1"))
    [delivered] = fake_smsc.delivered()
    assert delivered.phone == PHONE
    assert delivered.text is not None and "Код входа" in delivered.text
    assert requested.code is None or requested.code in delivered.text
    assert fake_smsru.delivered() == [] and fake_twilio.requests == []
    assert status.channel == "smsc"
    assert status.failed_over


async def test_twilio_names_its_status_callback_and_its_sender() -> None:
    with serving(twilio.FakeTwilio()) as fake:
        settings = Settings(
            secret_key=SECRET,
            sms_routes=parse_routes("twilio", CHANNELS),
            twilio_account_sid=twilio.ACCOUNT_SID,
            twilio_auth_token=twilio.AUTH_TOKEN,
            twilio_messaging_service_sid="MG" + "0" * 32,
            twilio_base_url=fake.url,
            public_url="https://login.example.com",
        )
        async with open_service(settings, adapters=Adapters.in_memory()) as api:
            await api.request_code(CodeRequest("+14155550100", "10.0.0.1"))
            assert await api.drain_deliveries(10)
    [request] = fake.requests
    form = request.form()
    assert form["MessagingServiceSid"] == "MG" + "0" * 32
    assert "From" not in form
    assert fake.callbacks == ["https://login.example.com/api/receipts/twilio/"]


async def test_telegram_names_no_callback_on_a_plain_http_public_url(
    fake_telegram: telegram.FakeTelegramGateway,
) -> None:
    # Telegram would refuse the whole message over a callback that is not https://.
    settings = Settings(
        secret_key=SECRET,
        sms_routes=parse_routes("telegram", CHANNELS),
        telegram_token=telegram.TOKEN,
        telegram_base_url=fake_telegram.url,
        public_url="http://localhost:8000",
    )
    async with open_service(settings, adapters=Adapters.in_memory()) as api:
        await api.request_code(CodeRequest(PHONE, "10.0.0.1"))
        assert await api.drain_deliveries(10)
    assert len(fake_telegram.delivered()) == 1
    assert fake_telegram.callbacks == []
