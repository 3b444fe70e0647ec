"""How the drill's people talk to the API and read their SMS.

:class:`Client` sends one step, retrying a 503 after its ``Retry-After``
(capped at 1 s) as a client would, and writes every answer to the
:class:`~bench.soak.journal.Journal`; :class:`Mailbox` reads the codes the
SMS webhook sink accepted, and those SMS.ru took (the route's second
channel). Cookies are never kept: every step says which
session it uses (``Authorization: Bearer``).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import time
from typing import Any

import httpx
from bench.soak.journal import Answer, Journal
from bench.soak.stack import TimedSmsRu
from tests.integration.sms_sink import SmsSink

RETRIES = 40
CODE = re.compile(r"\b(\d{4,8})\b")


class Mailbox:
    """The codes the SMS sink accepted, by challenge id (the webhook's ``id``),
    and the texts SMS.ru took, by phone and time (a person's logins come one
    after another, so the text after a login is that login's)."""

    def __init__(self, sink: SmsSink, second: TimedSmsRu) -> None:
        self.sink = sink
        self.second = second
        self._seen = 0
        self._codes: dict[str, str] = {}

    def _second(self, phone: str, since: float) -> str | None:
        for at, to, text in self.second.texts():
            if to == phone and at >= since and (match := CODE.search(text)):
                return match[1]
        return None

    def _pump(self) -> None:
        with self.sink.lock:
            new = self.sink.received[self._seen :]
            self._seen += len(new)
        for request in new:
            if 200 <= request.status < 300:
                body = request.json()
                if match := CODE.search(body["text"]):
                    self._codes.setdefault(body["id"], match[1])

    async def code(self, challenge: str, phone: str, since: float, wait: float) -> str | None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            self._pump()
            if challenge in self._codes:
                return self._codes[challenge]
            if code := self._second(phone, since):
                return code
            await asyncio.sleep(0.05)
        return None


def problem_code(response: httpx.Response) -> str:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return ""
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return "(not JSON)"


class Client:
    """One HTTP client for every person; each request names its caller's address."""

    def __init__(self, url: str, journal: Journal) -> None:
        no_cookies = http.cookiejar.CookieJar(
            http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        )
        self.http = httpx.AsyncClient(base_url=url, timeout=30, cookies=no_cookies)
        self.journal = journal

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self, op: str, method: str, path: str, ip: str, token: str = "", **kwargs: Any
    ) -> tuple[httpx.Response | None, bool]:
        """The final answer (None if there was none) and whether a 503 came first."""
        headers = {"X-Forwarded-For": ip}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        unavailable = False
        for _ in range(RETRIES):
            started = time.monotonic()
            try:
                response = await self.http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                self.journal.record(Answer(op, started, time.monotonic(), 0, type(exc).__name__))
                self.journal.fault(f"{op}: no answer ({type(exc).__name__}: {exc})")
                return None, unavailable
            status = response.status_code
            self.journal.record(
                Answer(op, started, time.monotonic(), status, problem_code(response))
            )
            if status != 503:
                return response, unavailable
            unavailable = True
            await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 1.0))
        self.journal.gave_up[op] += 1
        return None, unavailable

    def expect(self, what: str, response: httpx.Response, status: int, code: str = "") -> bool:
        if response.status_code == status and (not code or problem_code(response) == code):
            return True
        self.journal.fault(f"{what}: {response.status_code} {response.text[:300]}")
        return False
