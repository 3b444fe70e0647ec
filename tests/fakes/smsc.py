"""SMSC.ru's ``/sys/send.php`` as https://smsc.ru/api/http/send/ documents it.

A form with ``login``, ``psw``, ``phones``, ``mes``; ``charset`` tells the
text's encoding (windows-1251 unless ``utf-8`` or ``koi8-r``), ``fmt=3``
asks for JSON, ``id`` names the message. Answers (HTTP 200)
``{"id": ..., "cnt": 1}`` or ``{"error": ..., "error_code": N}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from referrals.testing.contracts.sms_gateway import Delivered, Trouble
from tests.fakes.server import FakeProvider, Refused, Request

LOGIN = "referrals-test"
PASSWORD = "smsc-password-for-tests-0123"
NUMBER = re.compile(r"^\+?[1-9]\d{6,14}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
ERRORS = {
    Trouble.BUSY: (9, "duplicate request, wait a minute"),
    Trouble.NO_BALANCE: (3, "no money"),
    Trouble.INVALID_NUMBER: (7, "invalid number"),
    Trouble.UNREACHABLE: (8, "cannot be delivered"),
}


def failed(code: int, text: str, message_id: str = "") -> dict[str, Any]:
    answer: dict[str, Any] = {"error": text, "error_code": code}
    if message_id:
        answer["id"] = message_id
    return answer


@dataclass
class FakeSmsc(FakeProvider):
    troubles: frozenset[Trouble] = frozenset(Trouble)
    ids: set[tuple[str, str]] = field(default_factory=set)
    """(number, message id) of every SMS sent: ``/sys/status.php`` finds them."""

    def sends(self, request: Request) -> bool:
        return request.path == "/sys/send.php"

    def answer(self, request: Request, *, bad_credentials: bool) -> tuple[int, Any]:
        if request.path not in {"/sys/send.php", "/sys/status.php"}:
            return 404, b"not found"
        form = self._form(request)
        if bad_credentials or (form.get("login"), form.get("psw")) != (LOGIN, PASSWORD):
            return 200, failed(2, "authorise error")
        if request.path == "/sys/status.php":
            return self._status(form)
        return self._send(form)

    def _send(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("fmt") != "3":
            return 200, b"OK - 1 SMS, ID - 1"
        phones, text, message_id = form.get("phones", ""), form.get("mes", ""), form.get("id", "")
        if not text or (message_id and not MESSAGE_ID.match(message_id)):
            return 200, failed(1, "parameters error")
        if not NUMBER.match(phones):
            return 200, failed(7, "invalid number", message_id)
        with self.lock:
            self.ids.add((phones.removeprefix("+"), message_id))
        self.deliver(Delivered("+" + phones.removeprefix("+"), text))
        return 200, {"id": message_id or 1, "cnt": 1}

    def _status(self, form: dict[str, str]) -> tuple[int, Any]:
        """``/sys/status.php``: the message's status, or error 5 when there is no such SMS."""
        with self.lock:
            known = (form.get("phone", "").removeprefix("+"), form.get("id", "")) in self.ids
        if form.get("fmt") != "3" or not known:
            return 200, failed(5, "message not found")
        return 200, {"status": 0, "last_date": "07.12.2026 12:00:00", "last_timestamp": 1796644800}

    @staticmethod
    def _form(request: Request) -> dict[str, str]:
        """The form, its text decoded as ``charset`` says (windows-1251 by default)."""
        raw = dict(parse_qsl(request.body.decode("ascii"), encoding="latin-1"))
        charset = {"utf-8": "utf-8", "koi8-r": "koi8-r"}.get(raw.get("charset", ""), "cp1251")
        try:
            return {k: v.encode("latin-1").decode(charset) for k, v in raw.items()}
        except UnicodeDecodeError:
            raise Refused(200, failed(1, "parameters error")) from None

    def trouble(self, trouble: Trouble, request: Request) -> tuple[int, Any]:
        code, text = ERRORS[trouble]
        return 200, failed(code, text)
