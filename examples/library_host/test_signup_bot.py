"""The bot's tests, on referrals' in-memory service (``pip install 'referrals[testing]'``:
its pytest fixtures load by themselves)."""

from __future__ import annotations

import pytest

from referrals.testing import FakeClock, InMemoryService
from signup_bot import SMS_TEXT, SignupBot, Welcomes, hooks_for

pytestmark = pytest.mark.asyncio

PHONE = "+79991234567"


async def test_a_person_signs_up_with_the_code_from_the_sms(
    referrals_service: InMemoryService,
) -> None:
    bot = SignupBot(referrals_service.service)

    token = await bot.phone_received("8 999 123-45-67")
    reply = await bot.code_received(token, referrals_service.last_code(PHONE))

    assert reply.startswith(f"welcome {PHONE}")


async def test_a_code_typed_after_it_expired_is_refused(
    referrals_service: InMemoryService, referrals_clock: FakeClock
) -> None:
    bot = SignupBot(referrals_service.service)
    token = await bot.phone_received(PHONE)
    referrals_clock.advance(301)

    reply = await bot.code_received(token, referrals_service.last_code(PHONE))

    assert reply.startswith("error: This login has expired")


async def test_new_users_are_greeted_once_and_get_the_bots_sms_text() -> None:
    welcomes = Welcomes()
    svc = InMemoryService(hooks=hooks_for(welcomes), sms_text=SMS_TEXT)
    bot = SignupBot(svc.service)

    for _ in range(2):
        svc.clock.advance(60)
        token = await bot.phone_received(PHONE, language="ru")
        await bot.code_received(token, svc.last_code(PHONE))

    assert len(welcomes.greeted) == 1
    assert svc.sent[-1].text.startswith("Код для бота: ")


async def test_a_friends_code_is_applied_once(referrals_service: InMemoryService) -> None:
    friend = await referrals_service.sign_in("+79997654321")
    me = await referrals_service.sign_in(PHONE)
    bot = SignupBot(referrals_service.service)

    first = await bot.friend_code_received(me.session.token, friend.profile.invite_code)
    again = await bot.friend_code_received(me.session.token, friend.profile.invite_code)

    assert first == f"thanks, you joined through {friend.profile.invite_code}"
    assert again.startswith("error: An invite code was already applied")
