"""The simulated people's side of the drill: logins, reading the code at the
fake gateway, typing it, applying invite codes, all over HTTP from the
person's address (``X-Forwarded-For``) and device (``X-Device-Id``).

A person who verifies waits for the code at the gateway, as on a phone, and
types it at their moment. The defence's first decision is read from
``referrals_pumping_throttled`` on ``/metrics`` (shadow refuses nothing, so
only the metric shows it), or from the first pumped login refused by it,
whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from bench.pumping.client import Answer, Client, HttpError
from bench.pumping.figures import Figures
from bench.pumping.gateway import FakeGateway
from bench.pumping.traffic import Login, Member

DELAYED = 10.0
"""Wall-clock seconds from a login to its SMS at the gateway past which the
login counts as delayed. Not scaled: delivery takes real time, and the drill's
compressed hour sends at ``scale`` times the hour's real rate, so its
latencies are pessimistic."""
PATIENCE = 30.0
"""Wall-clock seconds a person waits for their code at all."""


class Run:
    def __init__(self, figures: Figures, client: Client, gateway: FakeGateway) -> None:
        self.figures = figures
        self.client = client
        self.gateway = gateway
        self.start = time.monotonic()
        self.members: list[Member] = []
        """Organic people who verified, in the order they did."""

    def hour_seconds(self) -> float:
        return (time.monotonic() - self.start) * self.figures.scale

    async def post(
        self,
        path: str,
        body: dict[str, str],
        address: str,
        *,
        device: str | None = None,
        token: str | None = None,
    ) -> Answer | None:
        """POST from ``address`` (with the app's device id and a bearer token if given);
        ``None`` (counted) if no answer came."""
        headers = {"X-Forwarded-For": address}
        if device:
            headers["X-Device-Id"] = device
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer = await self.client.request("POST", path, body, headers)
        except HttpError as exc:
            self.figures.server_errors[str(exc).partition(":")[0]] += 1
            return None
        if answer.status >= 500 and not paused(answer):
            self.figures.server_errors[f"HTTP {answer.status}"] += 1
        return answer

    async def login(self, login: Login) -> None:
        figures, scale = self.figures, self.figures.scale
        asked = time.monotonic()
        body = {"phone": login.phone}
        answer = await self.post("/api/login/", body, login.address, device=login.device)
        if answer is None or answer.status != 200:
            why = refusal(answer)
            figures.refused_by[why] += 1
            if login.organic:
                figures.organic_refused += 1
            elif why.startswith("pumping") and figures.first_throttle is None:
                figures.first_throttle = (asked - self.start) * scale
            return
        figures.accepted += 1
        if not login.organic:
            figures.pumped_accepted += 1
        if login.organic or login.typing is not None:
            await self.read_and_type(login, answer.json()["token"], asked)

    async def read_and_type(self, login: Login, token: str, asked: float) -> None:
        figures, scale = self.figures, self.figures.scale
        arrival = await self.gateway.code(login.phone, asked, PATIENCE)
        if arrival is None or arrival[0] - asked > DELAYED:
            figures.organic_delayed += login.organic
            if arrival is None:
                return
        figures.delivery_ms.append((arrival[0] - asked) * 1000)
        if login.typing is None:
            return
        await asyncio.sleep(max(0.0, asked + login.typing / scale - time.monotonic()))
        body = {"confirm_code": arrival[1]}
        answer = await self.post(f"/api/verify/{token}/", body, login.address, device=login.device)
        if login.organic:
            if answer is not None and answer.status == 200:
                figures.organic_verified += 1
                self.members.append(member(login.phone, answer, login.address, login.device))
            else:
                figures.organic_refused += 1
                figures.refused_by["verify " + refusal(answer)] += 1

    async def sign_in(self, phone: str, address: str, device: str | None) -> Member | str:
        """Log in, read the code at the gateway, verify at once; why not, if refused."""
        asked = time.monotonic()
        answer = await self.post("/api/login/", {"phone": phone}, address, device=device)
        if answer is None or answer.status != 200:
            return "login " + refusal(answer)
        self.figures.accepted += 1
        arrival = await self.gateway.code(phone, asked, PATIENCE)
        if arrival is None:
            return "no code"
        path, body = f"/api/verify/{answer.json()['token']}/", {"confirm_code": arrival[1]}
        verified = await self.post(path, body, address, device=device)
        if verified is None or verified.status != 200:
            return "verify " + refusal(verified)
        return member(phone, verified, address, device)

    async def apply(self, applier: Member, code: str) -> str:
        """Apply ``code`` as ``applier``: ``pending_review``, ``applied`` or the refusal."""
        body = {"used_referral_code": code}
        answer = await self.post(
            "/api/profile/", body, applier.address, device=applier.device, token=applier.token
        )
        if answer is None or answer.status != 200:
            return refusal(answer)
        return str(answer.json().get("used_referral_status") or "not applied")

    async def watch_metric(self) -> None:
        """Until cancelled: note when ``/metrics`` first counts a throttle decision
        after the hour started."""
        before: float | None = None
        while True:
            with contextlib.suppress(HttpError):
                text = (await self.client.request("GET", "/metrics")).body.decode()
                if before is None:
                    before = throttled(text)
                elif throttled(text) > before:
                    seen = self.hour_seconds()
                    first = self.figures.first_throttle
                    self.figures.first_throttle = seen if first is None else min(first, seen)
                    return
            await asyncio.sleep(0.1)


def member(phone: str, verified: Answer, address: str, device: str | None) -> Member:
    """Who a verify's answer signed in."""
    body = verified.json()
    return Member(
        phone, body["access_token"], body["user"]["invite_referral_code"], address, device
    )


def paused(answer: Answer) -> bool:
    return answer.status == 503 and b"sending_paused" in answer.body


def refusal(answer: Answer | None) -> str:
    """``pumping_prefix``, ``ip_send``… for a 429; else the problem's code."""
    if answer is None:
        return "no answer"
    try:
        body = answer.json()
    except json.JSONDecodeError:
        return f"HTTP {answer.status}"
    return str(body.get("limit") or body.get("code") or answer.status)


def throttled(metrics: str) -> float:
    """Throttle decisions counted so far (every kind and mode)."""
    name = "referrals_pumping_throttled_total"
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(name))
