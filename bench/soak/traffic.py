"""The drill's traffic: people who log in, read the code from their SMS,
verify (some after a wrong code), read their profile, apply someone's invite
code (some twice at once, some an unknown code first), log out, and come
back later as returning users.

Each person has a phone of its own and every visit comes from an address of
its own (``X-Forwarded-For`` through the trusted proxy 127.0.0.1), so the
product's default limits stay on and no honest visit meets one. A 503 is
retried (see :mod:`bench.soak.client`); every answer the contract does not
allow is written to the :class:`~bench.soak.journal.Journal` as wrong.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from bench.soak.client import Client, Mailbox, problem_code
from bench.soak.journal import Journal, Login
from bench.soak.stack import SECRET_KEY, TimedSmsRu
from tests.integration.sms_sink import SmsSink

from referrals.domain.codes import challenge_id

ADDRESSES = ipaddress.ip_network("198.18.0.0/15")
"""RFC 2544's benchmarking range, used only as header values: nothing is sent there."""
FIRST_PHONE = 1_000_000
SMS_WAIT = 60.0
"""Seconds a person waits for the SMS: a killed worker plus the redelivery time."""
COME_BACK = 65.0
"""A returning person logs in again after the resend cooldown (60 s)."""
VISITS = 3
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass
class Person:
    phone: str
    user_id: int | None = None
    invite: str | None = None
    applied: bool = False
    uncertain: bool = False
    """A verify with the right code answered 503: the user may exist already."""
    visits: int = 0
    due: float = 0.0


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


class Crowd:
    """``users`` people at once, each visiting until the deadline."""

    def __init__(
        self, url: str, sink: SmsSink, second: TimedSmsRu, journal: Journal, seed: int
    ) -> None:
        self.api = Client(url, journal)
        self.mailbox = Mailbox(sink, second)
        self.journal = journal
        self.rng = random.Random(seed)
        self.addresses = (str(a) for a in ADDRESSES.hosts())
        self.phones = (f"+7999{n:07d}" for n in range(FIRST_PHONE, 10_000_000))
        self.known: list[Person] = []
        self.returning: deque[Person] = deque()

    async def run(self, users: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            await asyncio.gather(*(self._wander(deadline) for _ in range(users)))
        finally:
            await self.api.aclose()

    async def _wander(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.returning and self.returning[0].due <= time.monotonic():
                person = self.returning.popleft()
            else:
                person = Person(next(self.phones))
            await self._visit(person, next(self.addresses))
            person.visits += 1
            if person.visits < VISITS:
                person.due = time.monotonic() + COME_BACK
                self.returning.append(person)

    async def _visit(self, person: Person, ip: str) -> None:
        token = await self._sign_in(person, ip)
        if token is None:
            return
        await self._profile(person, token, ip)
        if not person.applied and self.rng.random() < 0.8:
            await self._apply(person, token, ip)
        if self.rng.random() < 0.5:
            await self._logout(person, token, ip)

    async def _sign_in(self, person: Person, ip: str) -> str | None:
        """Log in, read the SMS, verify; the session token, or None if it did not."""
        asked = time.monotonic()
        token = await self._login(person, ip)
        if token is None:
            return None
        challenge = challenge_id(SECRET_KEY.encode(), token)
        code = await self.mailbox.code(challenge, person.phone, asked, SMS_WAIT)
        if code is None:
            self.journal.gave_up["waiting for the SMS"] += 1
            return None
        path = f"/api/verify/{token}/"
        if self.rng.random() < 0.3:
            bad, _ = await self.api.call(
                "verify-wrong", "POST", path, ip, json={"confirm_code": _wrong(code)}
            )
            if bad is not None:
                self.api.expect(f"wrong code {person.phone}", bad, 400, "code_invalid")
        verify, retried = await self.api.call(
            "verify", "POST", path, ip, json={"confirm_code": code}
        )
        person.uncertain |= retried
        if verify is None:
            return None
        if retried and (verify.status_code, problem_code(verify)) == (400, "challenge_expired"):
            # A try cut off by the dependency timeout while its last step (using
            # the login up) was already sent: a frozen Redis ran it when it woke.
            self.journal.gave_up["verify: login used up by a try that answered 503"] += 1
            return None
        if not self.api.expect(f"verify {person.phone}", verify, 200):
            return None
        return self._signed_in(person, verify.json())

    async def _login(self, person: Person, ip: str) -> str | None:
        """The login token (its code is on its way), or None."""
        asked = time.monotonic()
        login, retried = await self.api.call(
            "login", "POST", "/api/login/", ip, json={"phone": person.phone}
        )
        if login is None:
            return None
        if retried and (login.status_code, problem_code(login)) == (429, "rate_limited"):
            # The store that keeps the cooldown went away between taking it and
            # storing the login, so it could not be given back: it frees up by itself.
            self.journal.gave_up["login: cooldown kept by an outage (429 after a 503)"] += 1
            return None
        if not self.api.expect(f"login {person.phone}", login, 200):
            return None
        body = login.json()
        challenge = challenge_id(SECRET_KEY.encode(), body["token"])
        now = time.monotonic()
        expires = now + body["expires_in"]
        self.journal.logins.append(Login(person.phone, challenge, asked, now, expires))
        return str(body["token"])

    def _signed_in(self, person: Person, body: dict[str, Any]) -> str:
        user = body["user"]
        if user["phone"] != person.phone:
            self.journal.fault(f"verify {person.phone} answered the user of {user['phone']}")
        if person.user_id is not None and body["is_new_user"]:
            self.journal.fault(f"returning {person.phone} was answered is_new_user=true")
        if person.user_id is None and not person.uncertain and not body["is_new_user"]:
            self.journal.fault(f"first login of {person.phone} was answered is_new_user=false")
        self.journal.users[person.phone].add(user["id"])
        self.journal.invites[user["id"]] = user["invite_referral_code"]
        if person.user_id is None:
            person.user_id, person.invite = user["id"], user["invite_referral_code"]
            self.known.append(person)
        return str(body["access_token"])

    async def _profile(self, person: Person, token: str, ip: str) -> None:
        answer, _ = await self.api.call("profile", "GET", "/api/profile/", ip, token)
        if answer is not None and self.api.expect(f"profile {person.phone}", answer, 200):
            body = answer.json()
            self.journal.users[person.phone].add(body["id"])
            if body["phone"] != person.phone:
                self.journal.fault(f"profile of {person.phone} answered {body['phone']}")

    async def _apply(self, person: Person, token: str, ip: str) -> None:
        others = [p.invite for p in self.known if p is not person and p.invite]
        if not others:
            return
        if self.rng.random() < 0.1:  # an unknown code first (one in 32**6 is someone's)
            unknown = "".join(secrets.choice(CROCKFORD) for _ in range(6))
            await self._apply_one(person, token, ip, unknown)
        if self.rng.random() < 0.15 and len(others) > 1:  # two at once: at most one may win
            pair = self.rng.sample(others, 2)
            await asyncio.gather(*(self._apply_one(person, token, ip, code) for code in pair))
        else:
            await self._apply_one(person, token, ip, self.rng.choice(others))

    async def _apply_one(self, person: Person, token: str, ip: str, code: str) -> None:
        json = {"used_referral_code": code}
        answer, retried = await self.api.call(
            "apply", "POST", "/api/profile/", ip, token, json=json
        )
        if retried and person.user_id is not None:
            self.journal.uncertain_applies.add(person.user_id)
        if answer is None:
            return
        status, problem = answer.status_code, problem_code(answer)
        if status == 200 and person.user_id is not None:
            self.journal.applied[person.user_id].append(code)
            person.applied = True
            if answer.json()["used_referral_code"] != code:
                self.journal.fault(f"apply {code} by {person.phone} answered {answer.text[:200]}")
            return
        if (status, problem) in {(409, "referral_cycle"), (409, "referral_already_applied")}:
            person.applied |= problem == "referral_already_applied"
            return
        unknown = code not in self.journal.invites.values()
        if (status, problem) != (404, "referral_code_not_found") or not unknown:
            self.journal.fault(
                f"apply {code} by {person.phone} (after a 503: {retried}):"
                f" {status} {answer.text[:200]}"
            )

    async def _logout(self, person: Person, token: str, ip: str) -> None:
        method = self.rng.choice(["GET", "POST"])
        answer, _ = await self.api.call("logout", method, "/api/logout/", ip, token)
        if answer is None or not self.api.expect(f"logout {person.phone}", answer, 200):
            return
        after, _ = await self.api.call("after-logout", "GET", "/api/profile/", ip, token)
        if after is not None:
            self.api.expect(f"profile after logout {person.phone}", after, 401, "not_authenticated")
