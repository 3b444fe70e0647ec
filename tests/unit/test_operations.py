"""The operator use cases on in-memory adapters, and the counting of activity."""

from __future__ import annotations

import pytest

from referrals.adapters.memory import InMemoryActivityLog
from referrals.application.activity import CODE_SENT, CODE_VERIFIED, CountingEvents, per_channel
from referrals.application.errors import NotAuthenticated, ServiceUnavailable
from referrals.application.events import CodeSent, CodeVerified, Hooks, LoginSucceeded
from referrals.application.operations import UserNotFound
from referrals.domain.errors import InvalidInput
from referrals.domain.phone import Phone
from referrals.testing import InMemoryService

PHONE, OTHER = "+79991234567", "+79997654321"


async def test_show_user_lists_the_chain_and_the_live_sessions() -> None:
    svc = InMemoryService()
    owner = await svc.sign_in(PHONE)
    fan = await svc.sign_in(OTHER)
    await svc.service.apply_referral(fan.profile.id, owner.profile.invite_code)
    report = await svc.service.show_user("8 (999) 765-43-21")
    assert [u.phone for u in report.referrers] == [PHONE]
    assert len(report.sessions) == 1


async def test_revoking_sessions_logs_the_user_out_everywhere() -> None:
    svc = InMemoryService()
    verified = await svc.sign_in(PHONE)
    revoked = await svc.service.revoke_sessions(PHONE)
    assert revoked.revoked == 1
    with pytest.raises(NotAuthenticated):
        await svc.service.authenticate(verified.session.token)


async def test_users_are_found_by_invite_code_or_phone_and_else_not_found() -> None:
    svc = InMemoryService()
    owner = await svc.sign_in(PHONE)
    by_code = await svc.service.list_referred(owner.profile.invite_code.lower())
    assert by_code.owner.phone == PHONE
    with pytest.raises(UserNotFound):
        await svc.service.show_user(OTHER)
    with pytest.raises(InvalidInput):
        await svc.service.show_user("ABCDEF")


async def test_stats_count_codes_sent_and_verified() -> None:
    svc = InMemoryService()
    await svc.sign_in(PHONE)
    stats = await svc.service.get_stats()
    assert (stats.users, stats.codes_sent_last_day, stats.codes_verified_last_day) == (1, 1, 1)


class DownActivityLog(InMemoryActivityLog):
    async def add(self, name: str, at: float) -> None:
        raise ServiceUnavailable("Redis")


async def test_counting_never_keeps_an_event_from_the_hooks() -> None:
    hooks, seen = Hooks(), []

    async def record(event: LoginSucceeded) -> None:
        seen.append(event)

    hooks.add(LoginSucceeded, record)
    event = LoginSucceeded(at=0.0, user_id=1, phone=Phone(PHONE), is_new_user=True)
    await CountingEvents(DownActivityLog(), hooks).publish(event)
    assert seen == [event]


async def test_counting_names_codes_sent_and_leaves_logins_to_their_completion() -> None:
    activity = InMemoryActivityLog()
    sink = CountingEvents(activity, Hooks())
    await sink.publish(CodeSent(at=10.0, phone=Phone(PHONE), language="en", channel="sms"))
    await sink.publish(LoginSucceeded(at=10.0, user_id=1, phone=Phone(PHONE), is_new_user=False))
    verified = CodeVerified(at=10.0, channel="sms", country="RU", delivered=True)
    await sink.publish(verified)
    assert await activity.count(CODE_SENT, 0, 10) == 1
    assert await activity.count(per_channel(CODE_SENT, "sms"), 0, 10) == 1
    # counted once, by the completion that consumed the login (LoginCompletion)
    assert await activity.count(CODE_VERIFIED, 0, 10) == 0
    assert await activity.count(per_channel(CODE_VERIFIED, "sms"), 0, 10) == 0
