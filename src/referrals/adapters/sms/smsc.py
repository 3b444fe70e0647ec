"""SMSC.ru: the SMS text, by its HTTP API.

``POST /sys/send.php`` (https://smsc.ru/api/http/send/) with ``login``,
``psw``, ``phones``, ``mes``, ``charset=utf-8`` (else SMSC reads the text as
windows-1251) and ``fmt=3`` (answers in JSON): ``{"id": ..., "cnt": 1}``, or
``{"error": ..., "error_code": N}``, which sorts it (docs/sending-codes.md).
The message ``id`` is ours (a digest of the login), so a receipt names it
whatever the answer did. Login and password travel in the form body, never
in the URL.
"""

from __future__ import annotations

import httpx

from referrals.adapters.sms.http_slots import CONNECTIONS
from referrals.adapters.sms.provider import (
    ProviderClient,
    ProviderGatewayBase,
    coded_failure,
    provider_key,
)
from referrals.application.errors import Failure
from referrals.domain.messages import SmsMessage

ERROR_FAILURES = {
    1: Failure.PERMANENT,  # a parameter is wrong
    2: Failure.PERMANENT,  # wrong login or password
    3: Failure.BALANCE,  # not enough money on the account
    4: Failure.TRANSIENT,  # the address is blocked for a while after errors
    6: Failure.PERMANENT,  # the message is forbidden (text or sender)
    7: Failure.PERMANENT,  # wrong number
    8: Failure.UNREACHABLE,  # the message cannot be delivered to this number
    9: Failure.TRANSIENT,  # the same request twice in a minute, or too many at once
}


class SmscGateway(ProviderGatewayBase):
    """Sends the SMS text through SMSC.ru (see the module's docstring)."""

    def __init__(
        self,
        login: str,
        password: str,
        *,
        base_url: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        self._http = ProviderClient("smsc", base_url, timeout, (password,), client, connections)
        self._credentials = {"login": login, "psw": password}

    async def _sent_already(self, message: SmsMessage) -> str | None:
        """``/sys/status.php`` of our message id: a status means SMSC has it.
        A lookup that fails for now fails the try (no second SMS on a guess)."""
        message_id = provider_key(message.idempotency_key)
        form = {
            **self._credentials,
            "phone": message.phone.removeprefix("+"),
            "id": message_id,
            "fmt": "3",
        }
        answer = self._http.json_object(await self._http.post("/sys/status.php", data=form))
        if "status" in answer and "error" not in answer:
            return message_id
        if coded_failure(ERROR_FAILURES, answer.get("error_code")) is Failure.TRANSIENT:
            raise self._http.failed(
                f"status: error_code {answer.get('error_code')}", Failure.TRANSIENT
            )
        return None

    async def _send(self, message: SmsMessage) -> str:
        message_id = provider_key(message.idempotency_key)
        form = {
            **self._credentials,
            "phones": message.phone.removeprefix("+"),
            "mes": message.text,
            "id": message_id,
            "charset": "utf-8",
            "fmt": "3",
        }
        response = await self._http.post("/sys/send.php", data=form)
        answer = self._http.json_object(response)
        if "error" not in answer and answer.get("cnt"):
            return message_id
        code = answer.get("error_code")
        raise self._http.failed(f"error_code {code}", coded_failure(ERROR_FAILURES, code))
