"""Provider channels chosen by settings, end to end through the service, each
against its fake on 127.0.0.1 (tests/fakes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from referrals.application.delivery_status import StatusQuery
from referrals.application.request_code import CodeRequest
from referrals.domain.delivery import Status
from referrals.domain.routes import parse_routes
from referrals.service import Adapters, open_service
from referrals.settings import CHANNELS, Settings
from tests.fakes import telegram
from tests.fakes.server import serving

PHONE = "+79991234567"
SECRET = b"provider-channels-secret-0123456789"


@pytest.fixture
def fake_telegram() -> Iterator[telegram.FakeTelegramGateway]:
    with serving(telegram.FakeTelegramGateway()) as fake:
        yield fake


async def test_a_telegram_route_sends_the_logins_code_with_its_ttl_and_callback(
    fake_telegram: telegram.FakeTelegramGateway,
) -> None:
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
