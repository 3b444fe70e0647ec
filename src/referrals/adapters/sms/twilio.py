"""Twilio Programmable Messaging: the SMS text, sent by Twilio.

One ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` per message
(https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource),
a form with ``To``, ``Body`` and ``From`` or ``MessagingServiceSid``,
authenticated by HTTP Basic with the account SID and auth token. With the
service's public URL known, ``StatusCallback`` names where Twilio posts the
message's status. Twilio's errors carry a ``code``
(https://www.twilio.com/docs/api/errors), which sorts them; see
docs/sending-codes.md.
"""

from __future__ import annotations

import httpx

from referrals.adapters.sms.http_slots import CONNECTIONS
from referrals.adapters.sms.provider import (
    ProviderClient,
    ProviderGatewayBase,
    coded_failure,
    status_failure,
)
from referrals.application.errors import Failure
from referrals.domain.messages import SmsMessage

RECEIPT_PATH = "/api/receipts/twilio/"
ERROR_FAILURES = {
    10001: Failure.BALANCE,  # account not active: its balance ran out (or it was suspended)
    20003: Failure.PERMANENT,  # authentication failed
    20429: Failure.TRANSIENT,  # too many requests
    21211: Failure.PERMANENT,  # invalid 'To' number
    21408: Failure.UNREACHABLE,  # sending to this region is not enabled
    21610: Failure.PERMANENT,  # the person replied STOP: blocked
    21612: Failure.UNREACHABLE,  # no route to this number from this sender
    21614: Failure.PERMANENT,  # not a mobile number
}


class TwilioGateway(ProviderGatewayBase):
    """Sends the SMS text through Twilio (see the module's docstring)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str | None,
        messaging_service_sid: str | None,
        base_url: str,
        public_url: str | None,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        if not (sender or messaging_service_sid):
            raise ValueError("Twilio needs a sender (From) or a Messaging Service SID")
        self._http = ProviderClient("twilio", base_url, timeout, (auth_token,), client, connections)
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._from = (
            {"MessagingServiceSid": messaging_service_sid}
            if messaging_service_sid
            else {"From": sender or ""}
        )
        self._callback = public_url.rstrip("/") + RECEIPT_PATH if public_url else None

    async def _send(self, message: SmsMessage) -> str:
        form = {"To": message.phone, "Body": message.text, **self._from}
        if self._callback:
            form["StatusCallback"] = self._callback
        response = await self._http.post(self._path, data=form, auth=self._auth)
        answer = self._http.json(response)
        sid = answer.get("sid") if isinstance(answer, dict) else None
        if response.is_success and isinstance(sid, str) and sid:
            return sid
        code = answer.get("code") if isinstance(answer, dict) else None
        failure = status_failure(response.status_code)
        if failure is not Failure.TRANSIENT:
            failure = coded_failure(ERROR_FAILURES, code)
        raise self._http.failed(f"HTTP {response.status_code}, error {code}", failure)
