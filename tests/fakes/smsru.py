"""SMS.ru's ``/sms/send`` as https://sms.ru/api/send documents it.

A form with ``api_id``, ``to`` (digits), ``msg`` (UTF-8) and ``json=1``
(without it the answer is plain text lines). Answers (HTTP 200 always)
``{"status": "OK", "status_code": 100, "sms": {number: {...}}, "balance"}``;
a refused request is ``{"status": "ERROR", "status_code": N, "status_text"}``
and a refused number has the same inside ``sms``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from referrals.testing.contracts.sms_gateway import Delivered, Trouble
from tests.fakes.server import FakeProvider, Request

API_ID = "1A2B3C4D-5E6F-7081-92A3-B4C5D6E7F809"
NUMBER = re.compile(r"^[1-9]\d{6,14}$")
REQUEST_ERRORS = {
    Trouble.BUSY: (220, "Сервис временно недоступен, попробуйте чуть позже"),
}
NUMBER_ERRORS = {
    Trouble.NO_BALANCE: (201, "Не хватает средств на лицевом счету"),
    Trouble.INVALID_NUMBER: (202, "Неправильно указан номер телефона получателя"),
    Trouble.UNREACHABLE: (207, "На этот номер нельзя отправлять сообщения"),
}


def refused(code: int, text: str) -> dict[str, Any]:
    return {"status": "ERROR", "status_code": code, "status_text": text}


@dataclass
class FakeSmsRu(FakeProvider):
    troubles: frozenset[Trouble] = frozenset(Trouble) - {Trouble.TAKEN_SLOW}

    def answer(self, request: Request, *, bad_credentials: bool) -> tuple[int, Any]:
        if request.method != "POST" or request.path != "/sms/send":
            return 200, refused(210, "Используется GET, где необходимо использовать POST")
        form = request.form()
        if form.get("json") != "1":
            return 200, b"100\n000000-000001\nbalance=100"
        if bad_credentials or form.get("api_id") != API_ID:
            return 200, refused(200, "Неправильный api_id")
        to, text = form.get("to", ""), form.get("msg", "")
        if not text:
            return 200, refused(203, "Нет текста сообщения")
        if not NUMBER.match(to):
            return 200, self._numbered(to, refused(202, "Неправильно указан номер"))
        self.deliver(Delivered("+" + to, text))
        sent = {"status": "OK", "status_code": 100, "sms_id": f"{secrets.randbelow(10**6):06d}-1"}
        return 200, self._numbered(to, sent)

    @staticmethod
    def _numbered(to: str, part: dict[str, Any]) -> dict[str, Any]:
        return {"status": "OK", "status_code": 100, "sms": {to: part}, "balance": 4122.56}

    def trouble(self, trouble: Trouble, request: Request) -> tuple[int, Any]:
        if trouble in REQUEST_ERRORS:
            return 200, refused(*REQUEST_ERRORS[trouble])
        to = request.form().get("to", "")
        return 200, self._numbered(to, refused(*NUMBER_ERRORS[trouble]))
