"""The outbox: which events a use case writes, with its change, and their shape."""

from __future__ import annotations

import uuid

import jsonschema_rs
import pytest

from referrals.application.events import (
    CodeDelivered,
    CodeSent,
    CodeUndeliverable,
    Hooks,
    LimitReached,
    UserCreated,
)
from referrals.application.outbox import (
    EXPORTED,
    OutboxEvent,
    OutboxEvents,
    event_id,
    exported,
    schema_of,
    timestamp,
)
from referrals.domain.codes import InviteCode
from referrals.domain.errors import OwnReferralCode
from referrals.domain.phone import Phone
from referrals.testing import InMemoryService

PHONE, OTHER = "+79991230001", "+79991230002"


def types(events: list[OutboxEvent]) -> list[str]:
    return [event.type for event in events]


async def test_a_first_login_writes_user_created_and_login_succeeded() -> None:
    svc = InMemoryService()
    verified = await svc.sign_in(PHONE)
    created, login = svc.emitted
    assert types(svc.emitted) == ["user.created", "login.succeeded"]
    assert created.user_id == login.user_id == verified.profile.id
    assert created.data == {
        "version": 1,
        "user_id": verified.profile.id,
        "phone": PHONE,
        "invite_code": verified.profile.invite_code,
    }
    assert login.data["is_new_user"] is True


async def test_a_returning_login_writes_login_succeeded_only() -> None:
    svc = InMemoryService()
    await svc.sign_in(PHONE)
    svc.clock.advance(3600)  # past the resend cooldown
    await svc.sign_in(PHONE)
    assert types(svc.emitted) == ["user.created", "login.succeeded", "login.succeeded"]
    assert svc.emitted[-1].data["is_new_user"] is False


async def test_applying_a_code_writes_referral_applied_and_a_refusal_writes_nothing() -> None:
    svc = InMemoryService()
    owner = (await svc.sign_in(PHONE)).profile
    fan = (await svc.sign_in(OTHER)).profile
    with pytest.raises(OwnReferralCode):
        await svc.service.apply_referral(fan.id, fan.invite_code)
    assert "referral.applied" not in types(svc.emitted)
    await svc.service.apply_referral(fan.id, owner.invite_code)
    applied = svc.emitted[-1]
    assert applied.type == "referral.applied"
    assert applied.user_id == fan.id
    assert applied.data == {
        "version": 1,
        "user_id": fan.id,
        "referrer_id": owner.id,
        "invite_code": owner.invite_code,
        "signals": [],
    }


async def test_a_users_events_are_in_the_order_they_happened() -> None:
    svc = InMemoryService()
    owner = (await svc.sign_in(PHONE)).profile
    fan = (await svc.sign_in(OTHER)).profile
    await svc.service.apply_referral(fan.id, owner.invite_code)
    of_fan = [event.type for event in svc.emitted if event.user_id == fan.id]
    assert of_fan == ["user.created", "login.succeeded", "referral.applied"]


def test_event_ids_are_uuid7_unique_and_ordered_by_time() -> None:
    ids = [event_id(1_765_000_000.0 + n / 1000) for n in range(1000)]
    assert len(set(ids)) == len(ids)
    parsed = [uuid.UUID(value) for value in ids]
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert [u.int >> 80 for u in parsed] == sorted(u.int >> 80 for u in parsed)
    assert parsed[0].int >> 80 == 1_765_000_000_000


def test_the_body_has_the_shape_standard_webhooks_recommends() -> None:
    event = exported(
        UserCreated(
            at=1_765_090_303.1234, user_id=7, phone=Phone(PHONE), invite_code=InviteCode("ABC123")
        )
    )
    assert event is not None
    assert event.body == {
        "type": "user.created",
        "timestamp": "2025-12-07T06:51:43.123Z",
        "data": {"version": 1, "user_id": 7, "phone": PHONE, "invite_code": "ABC123"},
    }
    assert timestamp(0) == "1970-01-01T00:00:00.000Z"


async def test_every_exported_body_matches_its_shipped_json_schema() -> None:
    svc = InMemoryService()
    owner = (await svc.sign_in(PHONE)).profile
    fan = (await svc.sign_in(OTHER)).profile
    await svc.service.apply_referral(fan.id, owner.invite_code)
    samples = [
        *svc.emitted,
        exported(CodeSent(at=1.0, phone=Phone(PHONE), language="ru", requested_at=0.5)),
        exported(LimitReached(at=1.0, action="login", limit="cooldown")),
        exported(CodeDelivered(at=1.0, channel="smsru", country="RU", route="smsru", seconds=2.5)),
        exported(CodeUndeliverable(at=1.0, phone=Phone(PHONE), country="RU", route="smsru,smsc")),
    ]
    for event in samples:
        assert event is not None
        jsonschema_rs.validate(schema_of(event.type), event.body)
    assert {schema_of(kind)["title"] for kind in EXPORTED.values()} == set(EXPORTED.values())
    body = {**samples[0].body, "data": {"version": 1}}
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(schema_of(samples[0].type), body)


async def test_events_that_change_no_state_are_written_only_when_someone_wants_them() -> None:
    svc = InMemoryService()
    hooks = Hooks()
    seen: list[object] = []

    @hooks.on(LimitReached)
    async def remember(event: LimitReached) -> None:
        seen.append(event)

    sink = OutboxEvents(svc.users.unit_of_work, frozenset({"limit.reached"}), hooks)
    await sink.publish(LimitReached(at=1.0, action="login", limit="cooldown"))
    await sink.publish(CodeSent(at=1.0, phone=Phone(PHONE), language="ru"))
    assert types(svc.emitted) == ["limit.reached"]
    assert len(seen) == 1  # and every event still reaches the hooks
