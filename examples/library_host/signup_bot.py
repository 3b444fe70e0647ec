"""A chat bot's sign-up flow on top of referrals, with no HTTP at all.

The bot asks for a phone, sends the code through its own SMS provider,
checks the code the person types, and lets them enter a friend's invite
code. It reacts to new users with a hook. Run it: ``python signup_bot.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from referrals import (
    Adapters,
    CodeRequest,
    DomainError,
    Hooks,
    Service,
    SmsMessage,
    SmsText,
    UserCreated,
    VerifyCode,
    open_service,
)


@dataclass
class ChatSmsProvider:
    """The bot's own SMS provider: here it only keeps the messages."""

    outbox: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, message: SmsMessage) -> str | None:
        self.outbox.append((message.phone, message.text))
        return None  # no message id: this provider sends no receipts


@dataclass
class Welcomes:
    """Greets every new user once (a hook)."""

    greeted: list[int] = field(default_factory=list)

    async def __call__(self, event: UserCreated) -> None:
        self.greeted.append(event.user_id)


SMS_TEXT = SmsText({"en": "Bot code: {code}", "ru": "Код для бота: {code}"})


def hooks_for(welcomes: Welcomes) -> Hooks:
    hooks = Hooks()
    hooks.add(UserCreated, welcomes)
    return hooks


class SignupBot:
    """What the bot says back to a person, whatever referrals decides."""

    def __init__(self, service: Service, chat_address: str = "chat") -> None:
        self._service = service
        self._address = chat_address

    async def phone_received(self, phone: str, language: str = "en") -> str:
        """A token to keep for the person's next message, or why not."""
        try:
            requested = await self._service.request_code(
                CodeRequest(phone=phone, client_ip=self._address, language=language)
            )
        except DomainError as refusal:
            return f"error: {refusal.detail}"
        return requested.token

    async def code_received(self, token: str, code: str) -> str:
        try:
            verified = await self._service.verify(VerifyCode(token, code, self._address))
        except DomainError as refusal:
            return f"error: {refusal.detail}"
        profile = verified.profile
        return f"welcome {profile.phone}, share your code {profile.invite_code}"

    async def friend_code_received(self, session_token: str, invite_code: str) -> str:
        try:
            user_id = await self._service.authenticate(session_token)
            profile = await self._service.apply_referral(user_id, invite_code)
        except DomainError as refusal:
            return f"error: {refusal.detail}"
        return f"thanks, you joined through {profile.used_invite_code}"


async def demo() -> None:
    provider, welcomes = ChatSmsProvider(), Welcomes()
    adapters = Adapters.in_memory(sms_gateway=provider)
    async with open_service(adapters=adapters, hooks=hooks_for(welcomes), sms_text=SMS_TEXT) as svc:
        bot = SignupBot(svc)
        token = await bot.phone_received("+7 999 123-45-67")
        await svc.drain_deliveries()  # the in-process queue delivers in the background
        phone, text = provider.outbox[-1]
        print(f"SMS to {phone}: {text}")
        print(await bot.code_received(token, text.rsplit(" ", 1)[-1]))
        print(f"greeted users: {welcomes.greeted}")


if __name__ == "__main__":
    asyncio.run(demo())
