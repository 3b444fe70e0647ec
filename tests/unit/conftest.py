"""Use cases wired to in-memory adapters and a clock the tests move by hand."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest

from referrals.adapters.memory import (
    InMemoryChallengeStore,
    InMemoryDeliveryLedger,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUsers,
    RecordingCodeSender,
    RecordingSmsGateway,
    SentSms,
)
from referrals.application.events import Hooks
from referrals.application.policy import Policy
from referrals.application.ports import (
    ChallengeStore,
    CodeDelivery,
    CodeSender,
    RateLimiter,
    SmsGateway,
)
from referrals.application.request_code import CodeRequest
from referrals.application.verify import Verified, VerifyCode
from referrals.domain.codes import open_code
from referrals.service import Adapters, build_container
from referrals.settings import Settings
from referrals.testing import FakeClock

SECRET = b"s" * 32


@dataclass
class World:
    """Everything a use-case test touches, and shortcuts for common steps."""

    policy: Policy
    clock: FakeClock
    challenges: ChallengeStore
    limiter: RateLimiter
    sessions: InMemorySessionStore
    users: InMemoryUsers
    sender: CodeSender
    gateway: SmsGateway
    ledger: InMemoryDeliveryLedger
    events: Hooks = dataclasses.field(default_factory=Hooks)

    def __post_init__(self) -> None:
        # The production wiring (the container), on these stores: the tests
        # exercise the use cases exactly as the service builds them.
        settings = Settings(secret_key=SECRET, policy=self.policy)
        adapters = Adapters(
            unit_of_work=self.users.unit_of_work,
            challenges=self.challenges,
            sessions=self.sessions,
            limiter=self.limiter,
            delivery_ledger=self.ledger,
            code_sender=self.sender,
            sms_gateway=self.gateway,
            clock=self.clock,
        )
        container = build_container(settings, adapters=adapters, hooks=self.events)
        self.get_profile = container.get_profile()
        self.request_code = container.request_code()
        self.verify = container.verify()
        self.apply_referral = container.apply_referral()
        self.authenticate = container.authenticate()
        self.logout = container.logout()
        self.deliver_code = container.deliver_code()

    @property
    def queued(self) -> list[CodeDelivery]:
        assert isinstance(self.sender, RecordingCodeSender)
        return self.sender.queued

    @property
    def sent(self) -> list[SentSms]:
        assert isinstance(self.gateway, RecordingSmsGateway)
        return self.gateway.sent

    def last_code(self) -> str:
        delivery = self.queued[-1]
        return open_code(SECRET, delivery.challenge_id, delivery.sealed_code)

    async def login(self, phone: str, ip: str = "10.0.0.1") -> tuple[str, str]:
        """Request a code; return the challenge token and the code that was sent."""
        requested = await self.request_code(CodeRequest(phone=phone, client_ip=ip))
        return requested.token, self.last_code()

    async def sign_in(self, phone: str, ip: str = "10.0.0.1") -> Verified:
        token, code = await self.login(phone, ip)
        return await self.verify(VerifyCode(token=token, code=code, client_ip=ip))

    def with_policy(self, **changes: Any) -> World:
        """The same stores under a different policy."""
        return dataclasses.replace(self, policy=dataclasses.replace(self.policy, **changes))


@pytest.fixture
def world() -> World:
    return World(
        policy=Policy(),
        clock=FakeClock(),
        challenges=InMemoryChallengeStore(),
        limiter=InMemoryRateLimiter(),
        sessions=InMemorySessionStore(),
        users=InMemoryUsers(),
        sender=RecordingCodeSender(),
        gateway=RecordingSmsGateway(),
        ledger=InMemoryDeliveryLedger(),
    )
