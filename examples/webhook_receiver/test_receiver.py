"""The shop's receiver against the real relay: signed, deduplicated, a bonus per referral."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest

from receiver import BONUS, Shop, create_app
from referrals import Policy, Settings, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.webhooks import HttpWebhookPoster
from referrals.application.outbox import OutboxEvent, event_id
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.application.webhooks import Answer, Endpoint
from referrals.service import Adapters

pytestmark = pytest.mark.asyncio

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 (a test key)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(str(tmp_path / "shop.sqlite3"))


class Watched:
    """A poster that says when it got an answer."""

    def __init__(self, inner: HttpWebhookPoster) -> None:
        self.inner = inner
        self.answered = asyncio.Event()

    async def post(self, endpoint: Endpoint, event: OutboxEvent) -> Answer:
        answer = await self.inner.post(endpoint, event)
        self.answered.set()
        return answer


def poster_to(shop: Shop, secret: str = SECRET) -> HttpWebhookPoster:
    """The relay's own poster, its requests answered by the shop's app in this process."""
    transport = httpx.ASGITransport(app=create_app(secret, shop))  # type: ignore[arg-type]
    return HttpWebhookPoster(5.0, client=httpx.AsyncClient(transport=transport))


async def test_the_shop_grants_a_bonus_when_someone_applies_an_invite_code(shop: Shop) -> None:
    endpoint = Endpoint("shop", "http://shop/webhooks", SECRET, frozenset({"referral.applied"}))
    settings = Settings(policy=Policy(expose_codes=True), webhooks=(endpoint,), webhook_poll=0.01)
    poster = Watched(poster_to(shop))
    adapters = dataclasses.replace(
        Adapters.in_memory(sms_gateway=RecordingSmsGateway()), webhook_poster=poster
    )
    async with open_service(settings, adapters=adapters) as service:
        profiles = []
        for phone in ("+79991234567", "+79991234568"):
            login = await service.request_code(CodeRequest(phone=phone, client_ip="10.0.0.1"))
            assert login.code is not None
            verified = await service.verify(VerifyCode(login.token, login.code, "10.0.0.1"))
            profiles.append(verified.profile)
        owner, fan = profiles
        await service.apply_referral(fan.id, owner.invite_code)
        await asyncio.wait_for(poster.answered.wait(), 10)
    assert shop.bonuses() == {owner.id: BONUS}


async def test_a_duplicate_is_dropped_by_its_webhook_id(shop: Shop) -> None:
    endpoint = Endpoint("shop", "http://shop/webhooks", SECRET, frozenset({"*"}))
    data = {"version": 1, "user_id": 2, "referrer_id": 1, "invite_code": "ABC123"}
    event = OutboxEvent(event_id(1.8e9), "referral.applied", 1.8e9, 2, data)
    poster = poster_to(shop)
    first, again = await poster.post(endpoint, event), await poster.post(endpoint, event)
    assert (first.status, again.status) == (204, 204)
    assert shop.bonuses() == {1: BONUS}


async def test_a_request_signed_with_another_secret_is_refused(shop: Shop) -> None:
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    endpoint = Endpoint("shop", "http://shop/webhooks", other, frozenset({"*"}))
    data = {"version": 1, "user_id": 2, "referrer_id": 1, "invite_code": "ABC123"}
    event = OutboxEvent(event_id(1.8e9), "referral.applied", 1.8e9, 2, data)
    answer = await poster_to(shop, SECRET).post(endpoint, event)
    assert answer.status == 400
    assert shop.bonuses() == {}
