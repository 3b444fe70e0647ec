"""An in-memory service for other projects' tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from referrals.adapters.memory import (
    InMemoryActivityLog,
    InMemoryChallengeStore,
    InMemoryDeliveryLedger,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUsers,
    RecordingSmsGateway,
    SentSms,
)
from referrals.adapters.readiness import Readiness
from referrals.application.events import Event
from referrals.application.outbox import OutboxEvent
from referrals.application.policy import Policy
from referrals.application.ports import EventSink
from referrals.application.request_code import CodeRequest, CodeRequested
from referrals.application.sms_text import SmsText
from referrals.application.verify import Verified, VerifyCode
from referrals.application.webhooks import Endpoint
from referrals.domain.codes import open_code
from referrals.domain.messages import CodeDelivery
from referrals.domain.phone import Phone
from referrals.service import Adapters, build_container, service_of
from referrals.settings import Settings
from referrals.testing.clock import FakeClock

SECRET = b"referrals-testing-secret-key-0123456789"
"""The fixed key of :class:`InMemoryService` (tests only: never in a real service)."""


@dataclass(frozen=True, slots=True)
class DeliveredCode:
    """A login code as it reached the SMS gateway."""

    phone: Phone
    code: str
    text: str
    """The whole SMS."""
    language: str | None


class InlineCodeSender:
    """A :class:`~referrals.application.ports.CodeSender` that delivers the code
    (``deliver``: the ``DeliverCode`` use case) before :meth:`send` returns, and
    remembers every code it delivered."""

    def __init__(self, deliver: Callable[[CodeDelivery], Awaitable[object]], secret: bytes) -> None:
        self._deliver = deliver
        self._secret = secret
        self.queued: dict[str, CodeDelivery] = {}
        """Every delivery handed over, by challenge id (the SMS's idempotency key)."""

    async def send(self, delivery: CodeDelivery) -> None:
        self.queued[delivery.challenge_id] = delivery
        await self._deliver(delivery)

    def code_of(self, delivery: CodeDelivery) -> str:
        return open_code(self._secret, delivery.challenge_id, delivery.sealed_code)


class _Recorder:
    """Keeps every event, then hands it on."""

    def __init__(self, then: EventSink | None) -> None:
        self.events: list[Event] = []
        self._then = then

    async def publish(self, event: Event) -> None:
        self.events.append(event)
        if self._then is not None:
            await self._then.publish(event)


class InMemoryService:
    """A whole service in memory, for tests: the same wiring as production
    (the same container), in-memory stores, a :class:`FakeClock`, SMS
    recorded by a :class:`~referrals.adapters.memory.RecordingSmsGateway` and
    delivered before ``request_code`` returns.

    ::

        svc = InMemoryService()
        requested = await svc.service.request_code(CodeRequest("+79991234567", "10.0.0.1"))
        code = svc.last_code("+79991234567")
        svc.clock.advance(301)          # the code has expired now

    ``policy`` defaults to the product's (docs/rules.md) with codes *not* exposed
    in the login result: read them with :meth:`last_code`, as a person
    reads their SMS. ``hooks`` receive every event; all events are also kept
    in :attr:`events`, and the outbox's rows (the webhooks' events) in
    :attr:`emitted`. ``webhooks`` (endpoints, as ``REFERRALS_WEBHOOKS`` gives
    them) adds the events that change no state (``code.sent``…) they
    subscribe to, as in production; nothing is posted.
    """

    def __init__(
        self,
        *,
        policy: Policy | None = None,
        clock: FakeClock | None = None,
        hooks: EventSink | None = None,
        sms_text: SmsText | None = None,
        webhooks: Sequence[Endpoint] = (),
    ) -> None:
        from referrals.container import use

        self.clock = clock or FakeClock()
        self.sms = RecordingSmsGateway()
        self.users = InMemoryUsers()
        self._recorder = _Recorder(hooks)
        settings = Settings(
            secret_key=SECRET,
            policy=policy or Policy(),
            sms_delay=(0.0, 0.0),
            webhooks=tuple(webhooks),  # which events that change no state are written
        )
        adapters = Adapters(
            unit_of_work=self.users.unit_of_work,
            challenges=InMemoryChallengeStore(),
            sessions=InMemorySessionStore(),
            limiter=InMemoryRateLimiter(),
            delivery_ledger=InMemoryDeliveryLedger(),
            activity=InMemoryActivityLog(),
            sms_gateway=self.sms,
            clock=self.clock,
        )
        container = build_container(
            settings, adapters=adapters, hooks=self._recorder, sms_text=sms_text
        )
        self.sender = InlineCodeSender(container.deliver_code(), SECRET)
        use(container.code_sender, self.sender)
        use(container.readiness, Readiness({}, timeout=1.0))  # nothing outside this process
        self.service = service_of(container)()

    @property
    def sent(self) -> list[SentSms]:
        """Every SMS the gateway accepted, oldest first."""
        return self.sms.sent

    @property
    def events(self) -> list[Event]:
        """Every event published so far, oldest first."""
        return self._recorder.events

    @property
    def emitted(self) -> list[OutboxEvent]:
        """Every event written to the outbox by a committed change, oldest
        first: what webhook endpoints will be sent (``docs/events.md``)."""
        return list(self.users.outbox.rows)

    def codes(self, phone: str) -> list[DeliveredCode]:
        """Every code sent to ``phone`` (E.164), oldest first."""
        found: list[DeliveredCode] = []
        for sms in self.sms.sent:
            delivery = self.sender.queued.get(sms.idempotency_key)
            if delivery is not None and sms.phone == phone:
                code = self.sender.code_of(delivery)
                found.append(DeliveredCode(sms.phone, code, sms.text, delivery.language))
        return found

    def last_code(self, phone: str) -> str:
        """The code most recently sent to ``phone`` (E.164); ``LookupError`` if none."""
        codes = self.codes(phone)
        if not codes:
            raise LookupError(f"no code was sent to {phone}")
        return codes[-1].code

    async def login(self, phone: str, client_ip: str = "127.0.0.1") -> CodeRequested:
        return await self.service.request_code(CodeRequest(phone=phone, client_ip=client_ip))

    async def sign_in(self, phone: str, client_ip: str = "127.0.0.1") -> Verified:
        """Request a code for ``phone`` and verify it: the session of a logged-in user."""
        requested = await self.login(phone, client_ip)
        code = self.last_code(requested.phone)
        return await self.service.verify(VerifyCode(requested.token, code, client_ip))
