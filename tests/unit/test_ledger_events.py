"""Events that change no state (code.sent…) reach the outbox, and so the
webhooks, when an endpoint subscribes to them (docs/events.md)."""

from __future__ import annotations

import asyncio
import dataclasses

from referrals import Policy, Settings, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.application.outbox import OutboxEvent
from referrals.application.request_code import CodeRequest
from referrals.application.webhooks import Answer, Endpoint
from referrals.service import Adapters
from referrals.testing import InMemoryService

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PHONE = "+79991234567"


class Receiver:
    def __init__(self, wanted: int) -> None:
        self.events: list[OutboxEvent] = []
        self.enough = asyncio.Event()
        self.wanted = wanted

    async def post(self, endpoint: Endpoint, event: OutboxEvent) -> Answer:
        self.events.append(event)
        if len(self.events) >= self.wanted:
            self.enough.set()
        return Answer(200, 0.0)


async def _login(endpoint: Endpoint, receiver: Receiver, logins: int) -> list[str]:
    """Log in ``logins`` times; the types of the outbox's rows, newest first."""
    settings = Settings(
        policy=Policy(expose_codes=True, resend_cooldown=0.001),
        webhooks=(endpoint,),
        webhook_poll=0.01,
    )
    adapters = dataclasses.replace(
        Adapters.in_memory(sms_gateway=RecordingSmsGateway()), webhook_poster=receiver
    )
    async with open_service(settings, adapters=adapters) as service:
        for _ in range(logins):
            await service.request_code(CodeRequest(phone=PHONE, client_ip="10.0.0.1"))
            await service.drain_deliveries()
        if receiver.wanted:
            await asyncio.wait_for(receiver.enough.wait(), 10)
    assert adapters.deliveries is not None
    return [report.event.type for report in await adapters.deliveries.events(None, None, 100)]


async def test_a_code_sent_by_the_queue_is_posted_to_an_endpoint_that_wants_it() -> None:
    receiver = Receiver(wanted=1)
    assert await _login(
        Endpoint("ops", "https://ops.example/", SECRET, frozenset({"code.sent"})), receiver, 1
    )
    [sent] = receiver.events
    assert sent.type == "code.sent"
    assert sent.data["phone"] == PHONE
    assert sent.data["channel"] == "console"


async def test_no_row_is_written_for_events_nobody_wants() -> None:
    receiver = Receiver(wanted=0)
    shop = Endpoint("shop", "https://shop.example/", SECRET, frozenset({"referral.applied"}))
    assert await _login(shop, receiver, 1) == []
    assert receiver.events == []


async def test_a_hosts_test_sees_the_events_an_endpoint_would_be_sent() -> None:
    ops = Endpoint("ops", "https://ops.example/", SECRET, frozenset({"code.sent"}))
    svc = InMemoryService(webhooks=[ops])
    await svc.sign_in(PHONE)
    assert [event.type for event in svc.emitted] == ["code.sent", "user.created", "login.succeeded"]
    plain = InMemoryService()
    await plain.sign_in(PHONE)
    assert [event.type for event in plain.emitted] == ["user.created", "login.succeeded"]
