"""The SmsGateway contract (:mod:`referrals.testing.contracts`) on every
provider adapter, each against its fake provider on 127.0.0.1 (tests/fakes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from referrals.adapters.sms.smsc import SmscGateway
from referrals.adapters.sms.smsru import SmsRuGateway
from referrals.adapters.sms.telegram import TelegramGateway
from referrals.adapters.sms.twilio import TwilioGateway
from referrals.adapters.sms.webhook import WebhookSmsGateway
from referrals.testing.contracts import SmsGatewayContract
from referrals.testing.contracts.sms_gateway import GATEWAY_TIMEOUT
from tests.fakes import smsc, smsru, telegram, twilio, webhook
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
        sms = TelegramGateway(
            telegram.TOKEN, base_url=far_side.url, public_url=None, timeout=GATEWAY_TIMEOUT
        )
        yield sms
        await sms.aclose()

    @pytest.fixture
    def credentials(self) -> tuple[str, ...]:
        return (telegram.TOKEN,)


class TestTwilioGateway(SmsGatewayContract):
    @pytest.fixture
    def far_side(self) -> Iterator[twilio.FakeTwilio]:
        with serving(twilio.FakeTwilio()) as fake:
            yield fake

    @pytest.fixture
    async def gateway(self, far_side: twilio.FakeTwilio) -> AsyncIterator[TwilioGateway]:
        sms = TwilioGateway(
            twilio.ACCOUNT_SID,
            twilio.AUTH_TOKEN,
            sender=twilio.SENDER,
            messaging_service_sid=None,
            base_url=far_side.url,
            public_url=None,
            timeout=GATEWAY_TIMEOUT,
        )
        yield sms
        await sms.aclose()

    @pytest.fixture
    def credentials(self) -> tuple[str, ...]:
        return (twilio.AUTH_TOKEN,)


class TestSmsRuGateway(SmsGatewayContract):
    @pytest.fixture
    def far_side(self) -> Iterator[smsru.FakeSmsRu]:
        with serving(smsru.FakeSmsRu()) as fake:
            yield fake

    @pytest.fixture
    async def gateway(self, far_side: smsru.FakeSmsRu) -> AsyncIterator[SmsRuGateway]:
        sms = SmsRuGateway(smsru.API_ID, base_url=far_side.url, timeout=GATEWAY_TIMEOUT)
        yield sms
        await sms.aclose()

    @pytest.fixture
    def credentials(self) -> tuple[str, ...]:
        return (smsru.API_ID,)


class TestSmscGateway(SmsGatewayContract):
    @pytest.fixture
    def far_side(self) -> Iterator[smsc.FakeSmsc]:
        with serving(smsc.FakeSmsc()) as fake:
            yield fake

    @pytest.fixture
    async def gateway(self, far_side: smsc.FakeSmsc) -> AsyncIterator[SmscGateway]:
        sms = SmscGateway(smsc.LOGIN, smsc.PASSWORD, base_url=far_side.url, timeout=GATEWAY_TIMEOUT)
        yield sms
        await sms.aclose()

    @pytest.fixture
    def credentials(self) -> tuple[str, ...]:
        return (smsc.PASSWORD,)


class TestWebhookSmsGateway(SmsGatewayContract):
    """One attempt per send, so each trouble reaches the caller as it is."""

    @pytest.fixture
    def far_side(self) -> Iterator[webhook.FakeWebhookReceiver]:
        with serving(webhook.FakeWebhookReceiver()) as fake:
            yield fake

    @pytest.fixture
    async def gateway(
        self, far_side: webhook.FakeWebhookReceiver
    ) -> AsyncIterator[WebhookSmsGateway]:
        sms = WebhookSmsGateway(
            far_side.url + "/sms", webhook.SECRET, timeout=GATEWAY_TIMEOUT, attempts=1
        )
        yield sms
        await sms.aclose()

    @pytest.fixture
    def credentials(self) -> tuple[str, ...]:
        return (webhook.SECRET.decode(),)
