"""Twilio's Messages resource, as its documentation says.

https://www.twilio.com/docs/messaging/api/message-resource

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP Basic with
the account SID and auth token, a form with ``To`` (E.164), ``Body`` (at
most 1600 characters) and ``From`` or ``MessagingServiceSid``;
``StatusCallback`` must be a URL. Answers 201 with the message resource, or
an error ``{"code", "message", "more_info", "status"}``.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from referrals.testing.contracts.sms_gateway import Delivered, Trouble
from tests.fakes.server import FakeProvider, Refused, Request

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-for-tests-0123"
SENDER = "+15005550006"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ERRORS = {
    Trouble.BUSY: (429, 20429, "Too Many Requests"),
    Trouble.NO_BALANCE: (401, 10001, "Account is not active"),
    Trouble.INVALID_NUMBER: (400, 21211, "The 'To' number is not a valid phone number."),
    Trouble.UNREACHABLE: (
        400,
        21408,
        "Permission to send an SMS has not been enabled for the region",
    ),
}


def error(status: int, code: int, message: str) -> Refused:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return Refused(status, {"code": code, "message": message, "more_info": more, "status": status})


@dataclass
class FakeTwilio(FakeProvider):
    troubles: frozenset[Trouble] = frozenset(Trouble) - {Trouble.TAKEN_SLOW}
    callbacks: list[str] = field(default_factory=list)

    def answer(self, request: Request, *, bad_credentials: bool) -> tuple[int, Any]:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if bad_credentials or request.headers.get("authorization") != f"Basic {expected}":
            raise error(401, 20003, "Authenticate")
        if request.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            raise error(404, 20404, "The requested resource was not found")
        form = request.form()
        to, body = form.get("To", ""), form.get("Body", "")
        if not E164.match(to):
            raise error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body:
            raise error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            raise error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if not (form.get("From") or form.get("MessagingServiceSid")):
            raise error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        callback = form.get("StatusCallback")
        if callback is not None:
            if not callback.startswith(("http://", "https://")):
                raise error(400, 21609, "Invalid StatusCallback")
            self.callbacks.append(callback)
        self.deliver(Delivered(to, body))
        sid = "SM" + secrets.token_hex(16)
        return 201, {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": body,
            "status": "queued" if form.get("From") else "accepted",
            "num_segments": "1",
            "error_code": None,
            "error_message": None,
        }

    def trouble(self, trouble: Trouble, request: Request) -> tuple[int, Any]:
        status, code, message = ERRORS[trouble]
        return error(status, code, message).status, error(status, code, message).body
