"""SMS.ru: the SMS text, by its HTTP API.

``POST /sms/send`` (https://sms.ru/api/send) with ``api_id``, ``to`` (digits
only), ``msg`` (UTF-8) and ``json=1`` answers
``{"status": "OK", "sms": {"<number>": {"status": "OK", "sms_id": ...}}}``;
a refusal of the whole request or of the number carries a ``status_code``,
which sorts it (docs/sending-codes.md). The api_id travels in the form body,
never in the URL. Delivery reports go to the callback URL set in the SMS.ru
account (see the receipts on docs/sending-codes.md).
"""

from __future__ import annotations

from typing import Any

import httpx

from referrals.adapters.sms.http_slots import CONNECTIONS
from referrals.adapters.sms.provider import ProviderClient, ProviderGatewayBase, coded_failure
from referrals.application.errors import Failure
from referrals.domain.messages import SmsMessage

CODE_FAILURES = {
    200: Failure.PERMANENT,  # wrong api_id
    201: Failure.BALANCE,  # not enough money on the account
    202: Failure.PERMANENT,  # wrong number
    207: Failure.UNREACHABLE,  # messages cannot be sent to this number
    209: Failure.PERMANENT,  # the number is on the stop list
    220: Failure.TRANSIENT,  # the service is busy: try again a little later
    300: Failure.PERMANENT,  # wrong token
    301: Failure.PERMANENT,  # wrong api_id or login
    302: Failure.PERMANENT,  # the account is not confirmed
}


class SmsRuGateway(ProviderGatewayBase):
    """Sends the SMS text through SMS.ru (see the module's docstring)."""

    def __init__(
        self,
        api_id: str,
        *,
        base_url: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        self._http = ProviderClient("smsru", base_url, timeout, (api_id,), client, connections)
        self._api_id = api_id

    async def _send(self, message: SmsMessage) -> str:
        number = message.phone.removeprefix("+")
        form = {"api_id": self._api_id, "to": number, "msg": message.text, "json": "1"}
        response = await self._http.post("/sms/send", data=form)
        answer = self._http.json_object(response)
        part: Any = answer  # a refused request, or the number's own answer
        if answer.get("status") == "OK" and isinstance(answer.get("sms"), dict):
            part = answer["sms"].get(number)
        if isinstance(part, dict) and part.get("status") == "OK" and part.get("sms_id"):
            return str(part["sms_id"])
        code = part.get("status_code") if isinstance(part, dict) else None
        raise self._http.failed(f"status_code {code}", coded_failure(CODE_FAILURES, code))
