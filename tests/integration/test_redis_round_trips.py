"""Round trips per request to Redis and to PostgreSQL, counted on real servers:
fewer round trips decide the speed. A change that adds one fails here and
must say why; the table in docs/performance.md is checked against the count.

Redis: every command and script sent (one round trip each) and every
pipeline (one round trip however many commands it carries). PostgreSQL: the
client's turns on the wire, through a forwarder (one connection, so the turns
are the requests' own). The task queue is left out (the in-process one here):
with taskiq a login adds one XADD. Each request is measured on its second
run, once the scripts are loaded and the statements prepared.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio
from redis.asyncio.client import Pipeline

from referrals import Adapters, CodeRequest, Settings, VerifyCode, open_service
from referrals.adapters.memory import InProcessCodeSender, RecordingSmsGateway
from referrals.adapters.sql import Database
from referrals.domain.errors import CodeInvalid, ReferralCodeNotFound
from referrals.domain.limits import Limit
from referrals.domain.spend import parse_prices
from referrals.service import Service
from referrals.testing.clock import FakeClock
from tests.artifacts import ROOT
from tests.integration.test_postgres_round_trips import TurnCounter

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

BUDGET = {  # (Redis, PostgreSQL) round trips
    # the send gate: one script for the quotas, the pumping throttle's read
    # and count per network, prefix and country, the spend cap's reservation
    # and the challenge (adapters/redis/send_gate.py)
    "login": (1, 0),
    # the charge and the attempt, one script (adapters/redis/code_check.py)
    "verify, wrong code": (1, 0),
    # Redis: the charge, the attempt and the refund of the wrong-code charge
    # (one script); then one pipeline (adapters/redis/completion.py): the
    # consume that, only if it consumed, writes the session, marks the
    # login's delivery record and adds the counts `referrals stats` reads
    # (the hour's logins, and by the channel that carried the code,
    # docs/sending-codes.md); with it the note of the owner's usual network
    # (docs/rules.md, lockout) and the pumping counters' verified side.
    # PostgreSQL: the user's read-or-insert with their profile (one
    # statement); then the welcome, the events and the login history's row,
    # all riding with the COMMIT (one pipeline).
    "verify, right code (new user)": (2, 2),
    "verify, right code (returning user)": (2, 2),
    "profile": (1, 1),  # the session, read once; the profile is one database read
    # From here on the session comes from the process's memory, which Redis
    # invalidates (adapters/redis/session_cache.py).
    "profile, again": (0, 1),
    # Redis: the charge (with the code_burst count). PostgreSQL: the apply
    # statement (with its BEGIN), which answers that no user has the code;
    # the unit's COMMIT.
    "apply, unknown code": (1, 2),
    # Redis: the charge, the refund. PostgreSQL: the apply statement (the
    # user locked, the code's owner, the chain held, the number's cooldown
    # from the user's row, the login history's signals and the policy's
    # action, the write, the profile page) with its BEGIN; the outbox row
    # with the COMMIT.
    "apply, applied": (2, 2),
}


CLOCK = FakeClock(time.time())
"""Moved past the resend cooldown before a user's second login."""


DELIVERING: contextvars.ContextVar[bool] = contextvars.ContextVar("delivering", default=False)
"""Set in the in-process queue's deliveries (and the tasks they start): the
worker's round trips, which may start while the login is still answering."""


class RoundTrips:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: Counter[str] = Counter()
        command, pipeline = redis.asyncio.Redis.execute_command, Pipeline.execute
        deliver = InProcessCodeSender._run

        async def counted_command(client: Any, *args: Any, **options: Any) -> Any:
            if not DELIVERING.get():
                self.sent[str(args[0])] += 1
            return await command(client, *args, **options)

        async def counted_pipeline(pipe: Any, *args: Any, **options: Any) -> Any:
            if not DELIVERING.get():
                self.sent["pipeline"] += 1
            return await pipeline(pipe, *args, **options)

        async def delivering(sender: InProcessCodeSender, delivery: Any) -> None:
            DELIVERING.set(True)
            await deliver(sender, delivery)

        monkeypatch.setattr(redis.asyncio.Redis, "execute_command", counted_command)
        monkeypatch.setattr(Pipeline, "execute", counted_pipeline)
        monkeypatch.setattr(InProcessCodeSender, "_run", delivering)

    def take(self) -> int:
        total = sum(self.sent.values())
        self.sent.clear()
        return total


@pytest.fixture
async def service(
    redis_server_url: str,
    redis_prefix: str,
    _postgres_migrated: str,
    postgres_database: Database,  # emptied for this test
) -> AsyncIterator[tuple[Service, RecordingSmsGateway, TurnCounter]]:
    parts = urlsplit(_postgres_migrated)
    async with TurnCounter(parts.hostname or "127.0.0.1", parts.port or 5432) as counter:
        netloc = f"{parts.username or ''}@127.0.0.1:{counter.port}"
        settings = Settings(
            redis_url=redis_server_url,
            redis_prefix=redis_prefix,
            secret_key=b"round-trips-secret-key-0123456789",
            database_url=urlunsplit(parts._replace(netloc=netloc)),
            db_pool_size=1,
            # every SMS costed and capped: the spend rides in the login's gate
            sms_prices=parse_prices("*=1"),
            spend_cap=(Limit(1_000_000, 86_400),),
        )
        sms = RecordingSmsGateway()
        adapters = Adapters(sms_gateway=sms, clock=CLOCK)
        async with open_service(settings, adapters=adapters) as opened:
            yield opened, sms, counter


class Trips:
    """Both counts at once: :meth:`take` gives (Redis, PostgreSQL) since the last take."""

    def __init__(self, redis_trips: RoundTrips, counter: TurnCounter) -> None:
        self._redis, self._counter = redis_trips, counter
        self._turns = counter.turns

    async def take(self, settle: bool = True) -> tuple[int, int]:
        if settle:  # what a request left running in the background is its own
            await asyncio.sleep(0.05)
        turns, self._turns = self._counter.turns - self._turns, self._counter.turns
        return self._redis.take(), turns


async def log_in(
    service: Service, sms: RecordingSmsGateway, phone: str, ip: str, trips: Trips
) -> tuple[str, str, tuple[int, int]]:
    """Request a code; the token, the code, and the round trips of the request
    alone (the in-process delivery after it is the worker's work)."""
    requested = await service.request_code(CodeRequest(phone, ip))
    spent = await trips.take(settle=False)  # the delivery that follows is the worker's
    await service.drain_deliveries()
    await trips.take()
    return requested.token, sms.sent[-1].text.split()[3].rstrip("."), spent


async def every_request(
    api: Service, sms: RecordingSmsGateway, trips: Trips, run: int
) -> dict[str, tuple[int, int]]:
    spent: dict[str, tuple[int, int]] = {}
    owner_phone, fan_phone, ip = f"+7999000{run}001", f"+7999000{run}002", f"10.0.{run}.1"
    token, code, spent["login"] = await log_in(api, sms, owner_phone, ip, trips)
    with pytest.raises(CodeInvalid):
        await api.verify(VerifyCode(token, f"{(int(code) + 1) % 10000:04d}", ip))
    spent["verify, wrong code"] = await trips.take()
    owner = await api.verify(VerifyCode(token, code, ip))
    spent["verify, right code (new user)"] = await trips.take()
    await api.get_profile(await api.authenticate(owner.session.token))
    spent["profile"] = await trips.take()
    await api.get_profile(await api.authenticate(owner.session.token))
    spent["profile, again"] = await trips.take()
    with pytest.raises(ReferralCodeNotFound):
        await api.apply_referral(await api.authenticate(owner.session.token), "ZZZZZZ")
    spent["apply, unknown code"] = await trips.take()
    token, code, _ = await log_in(api, sms, fan_phone, ip, trips)
    fan = await api.verify(VerifyCode(token, code, ip))
    await api.authenticate(fan.session.token)  # the session's first read
    await trips.take()
    user = await api.authenticate(fan.session.token)
    await api.apply_referral(user, owner.profile.invite_code)
    spent["apply, applied"] = await trips.take()
    CLOCK.advance(api.settings.policy.resend_cooldown)
    token, code, _ = await log_in(api, sms, owner_phone, ip, trips)
    await api.verify(VerifyCode(token, code, ip))
    spent["verify, right code (returning user)"] = await trips.take()
    return spent


def table(budget: dict[str, tuple[int, int]]) -> str:
    rows = [f"| {name} | {redis} | {postgres} |" for name, (redis, postgres) in budget.items()]
    return "\n".join(["| request | Redis | PostgreSQL |", "|---|---:|---:|", *rows])


async def test_each_request_makes_no_more_round_trips_than_its_budget(
    service: tuple[Service, RecordingSmsGateway, TurnCounter], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, sms, counter = service
    trips = Trips(RoundTrips(monkeypatch), counter)
    await every_request(api, sms, trips, 1)  # loads the scripts, prepares the statements
    await asyncio.sleep(0.05)  # the pool's own chatter is done
    await trips.take()

    assert await every_request(api, sms, trips, 2) == BUDGET


@pytest.mark.parametrize("page", ["docs/performance.md", "README.md"])
def test_the_performance_pages_show_the_budget(page: str) -> None:
    text = (ROOT / page).read_text()
    assert table(BUDGET) in text, f"{page} should show:\n{table(BUDGET)}"
