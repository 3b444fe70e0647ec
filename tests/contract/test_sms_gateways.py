"""The SmsGateway contract (:mod:`referrals.testing.contracts`) on every
provider adapter, each against its fake provider on 127.0.0.1 (tests/fakes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from referrals.adapters.sms.telegram import TelegramGateway
from referrals.testing.contracts import SmsGatewayContract
from referrals.testing.contracts.sms_gateway import GATEWAY_TIMEOUT
from tests.fakes import telegram
from tests.fakes.server import serving


class TestTelegramGateway(SmsGatewayContract):
    @pytest.fixture
    def far_side(self) -> Iterator[telegram.FakeTelegramGateway]:
        with serving(telegram.FakeTelegramGateway()) as fake:
            yield fake

    @pytest.fixture
    async def gateway(
        self, far_side: telegram.FakeTelegramGateway
    ) -> AsyncIterator[TelegramGateway]:
        sms = TelegramGateway(telegram.TOKEN, base_url=far_side.url, timeout=GATEWAY_TIMEOUT)
        yield sms
        await sms.aclose()

    @pytest.fixture
    def credentials(self) -> tuple[str, ...]:
        return (telegram.TOKEN,)
