"""The SmsGateway contract, for every gateway that talks to a provider.

A gateway is tested against a stand-in of its provider (the *far side*): a
local server that checks requests as the provider does and answers as it
documents. The far side tells what reached the phone and can be told to
answer the next request with a :class:`Trouble`.
"""

from __future__ import annotations

import enum
import logging
import secrets
import traceback
from dataclasses import dataclass
from typing import Protocol

import pytest

from referrals.application.errors import DeliveryFailed, Failure
from referrals.application.ports import SmsGateway
from referrals.domain.messages import SmsMessage
from referrals.domain.phone import Phone

GATEWAY_TIMEOUT = 1.0
"""Seconds per request the gateway under test must be built with; a far
side's :attr:`Trouble.SLOW` answer takes longer."""
PHONE = Phone("+79991234567")
ENGLISH = "Your login code: {code}. Do not share it with anyone."
RUSSIAN = "Ваш код для входа: {code}. Никому его не сообщайте."


class Trouble(enum.Enum):
    """An answer a far side can be told to give."""

    BUSY = "busy"
    """429, 5xx or the provider's own "busy"."""
    SLOW = "slow"
    """No answer within :data:`GATEWAY_TIMEOUT` (and nothing sent)."""
    NO_BALANCE = "no_balance"
    INVALID_NUMBER = "invalid_number"
    UNREACHABLE = "unreachable"
    """The provider cannot reach this number (Telegram: no account)."""
    BAD_CREDENTIALS = "bad_credentials"
    TAKEN_SLOW = "taken_slow"
    """The provider takes the message but its answer comes after
    :data:`GATEWAY_TIMEOUT`; only for providers where a message can be looked up."""


SORTED_AS = {
    Trouble.BUSY: Failure.TRANSIENT,
    Trouble.SLOW: Failure.TRANSIENT,
    Trouble.NO_BALANCE: Failure.BALANCE,
    Trouble.INVALID_NUMBER: Failure.PERMANENT,
    Trouble.UNREACHABLE: Failure.UNREACHABLE,
    Trouble.BAD_CREDENTIALS: Failure.PERMANENT,
}
"""How a gateway must sort each trouble (see docs/sending-codes.md)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """What reached a phone: the text, or (Telegram) only the code."""

    phone: str
    text: str | None
    code: str | None = None


class FarSide(Protocol):
    troubles: frozenset[Trouble]
    """The troubles this far side can act out."""

    def delivered(self) -> list[Delivered]: ...

    def answer_next(self, trouble: Trouble) -> None:
        """Answer the next request with ``trouble`` (then as usual again)."""
        ...


def a_message(template: str = ENGLISH, language: str = "en") -> SmsMessage:
    code = f"{secrets.randbelow(10_000):04d}"
    return SmsMessage(
        phone=PHONE,
        text=template.format(code=code),
        idempotency_key=secrets.token_urlsafe(16),
        code=code,
        ttl=300.0,
        language=language,
    )


class SmsGatewayContract:
    """Subclass it and give three fixtures: ``gateway`` (built with
    :data:`GATEWAY_TIMEOUT`), its ``far_side`` and ``credentials`` (the
    secrets it was given, which no text may show)."""

    pytestmark = pytest.mark.asyncio

    def _arrived(self, far_side: FarSide, message: SmsMessage) -> None:
        [got] = far_side.delivered()
        assert got.phone == message.phone
        if got.text is None:
            assert got.code == message.code
        else:
            assert got.text == message.text

    async def test_a_message_reaches_the_phone_once(
        self, gateway: SmsGateway, far_side: FarSide
    ) -> None:
        message = a_message()
        sent = await gateway.send(message)
        assert sent is None or (isinstance(sent, str) and sent)
        self._arrived(far_side, message)

    async def test_cyrillic_text_arrives_intact(
        self, gateway: SmsGateway, far_side: FarSide
    ) -> None:
        message = a_message(RUSSIAN, "ru")
        await gateway.send(message)
        self._arrived(far_side, message)

    async def test_a_retry_of_an_accepted_message_sends_nothing_more(
        self, gateway: SmsGateway, far_side: FarSide
    ) -> None:
        message = a_message()
        first = await gateway.send(message)
        assert await gateway.send(message) == first
        self._arrived(far_side, message)

    @pytest.mark.parametrize("trouble", list(SORTED_AS), ids=lambda t: t.value)
    async def test_each_trouble_is_sorted_and_a_later_try_still_sends(
        self,
        gateway: SmsGateway,
        far_side: FarSide,
        credentials: tuple[str, ...],
        trouble: Trouble,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        if trouble not in far_side.troubles:
            pytest.skip(f"this provider has no {trouble.value} answer")
        caplog.set_level(logging.DEBUG)
        message = a_message()
        far_side.answer_next(trouble)
        with pytest.raises(DeliveryFailed) as failed:
            await gateway.send(message)
        assert failed.value.failure is SORTED_AS[trouble]
        assert far_side.delivered() == []
        await gateway.send(message)
        self._arrived(far_side, message)
        trace = "".join(traceback.format_exception(failed.value))
        shown = f"{failed.value!s} {failed.value!r} {trace} {caplog.text} {gateway!r}"
        for secret in credentials:
            assert secret not in shown

    async def test_a_retry_after_an_unanswered_send_the_provider_took_sends_nothing_more(
        self, gateway: SmsGateway, far_side: FarSide
    ) -> None:
        if Trouble.TAKEN_SLOW not in far_side.troubles:
            pytest.skip("this provider has no way to look a sent message up")
        message = a_message()
        far_side.answer_next(Trouble.TAKEN_SLOW)
        with pytest.raises(DeliveryFailed) as failed:
            await gateway.send(message)
        assert failed.value.failure is Failure.TRANSIENT
        sent = await gateway.send(message)
        assert sent is None or (isinstance(sent, str) and sent)
        self._arrived(far_side, message)
