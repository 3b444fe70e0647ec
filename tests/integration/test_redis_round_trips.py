"""Redis round trips per request, counted on a real server (issue 8: fewer round
trips decide the speed). A change that adds one fails here and must say why.

Counted: every command and script sent (one round trip each) and every
pipeline (one round trip however many commands it carries). The task queue
is left out (the in-process one here): with taskiq a login adds one XADD.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.client import Pipeline

from referrals import Adapters, CodeRequest, Settings, VerifyCode, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.sql import open_database
from referrals.domain.errors import CodeInvalid, ReferralCodeNotFound
from referrals.service import Service
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

pytestmark = pytest.mark.redis

BUDGET = {
    "login": 2,  # the quotas (one script), the login (one script)
    "verify, wrong code": 2,  # the charge (one script), the attempt (one script)
    # charge, attempt; the refund of the wrong-code charge and the note of the
    # owner's usual network (docs/rules.md, lockout), both sent alongside the
    # user lookup; the session (and its entry in the user's index, one
    # pipeline), the consume; then side by side the hour's count of logins
    # (one script) that `referrals stats` reads across processes and the
    # conversion mark on the login's delivery record, followed by its count
    # by channel (docs/sending-codes.md). Issue 21 wants 4: see docs/performance.md.
    "verify, right code": 9,
    "profile": 1,  # the session, read once; the profile is one database read
    # From here on the session comes from the process's memory, which Redis
    # invalidates (adapters/redis/session_cache.py).
    "profile, again": 0,
    "apply, unknown code": 1,  # the charge
    "apply, applied": 2,  # the charge, its refund (alongside the profile read)
}


class RoundTrips:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: Counter[str] = Counter()
        command, pipeline = redis.asyncio.Redis.execute_command, Pipeline.execute

        async def counted_command(client: Any, *args: Any, **options: Any) -> Any:
            self.sent[str(args[0])] += 1
            return await command(client, *args, **options)

        async def counted_pipeline(pipe: Any, *args: Any, **options: Any) -> Any:
            self.sent["pipeline"] += 1
            return await pipeline(pipe, *args, **options)

        monkeypatch.setattr(redis.asyncio.Redis, "execute_command", counted_command)
        monkeypatch.setattr(Pipeline, "execute", counted_pipeline)

    def take(self) -> int:
        total = sum(self.sent.values())
        self.sent.clear()
        return total


@pytest.fixture
async def service(
    redis_server_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Service, RecordingSmsGateway]]:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"
    await open_database(database_url, namespace=NAMESPACE, **DATABASE).migrate()
    settings = Settings(
        redis_url=redis_server_url,
        redis_prefix=redis_prefix,
        secret_key=b"round-trips-secret-key-0123456789",
        database_url=database_url,
    )
    sms = RecordingSmsGateway()
    async with open_service(settings, adapters=Adapters(sms_gateway=sms)) as opened:
        yield opened, sms


async def log_in(
    service: Service, sms: RecordingSmsGateway, phone: str, ip: str, trips: RoundTrips | None
) -> tuple[str, str, int]:
    """Request a code; the token, the code, and the round trips of the request
    alone (the in-process delivery after it is the worker's work)."""
    requested = await service.request_code(CodeRequest(phone, ip))
    spent = trips.take() if trips else 0
    await service.drain_deliveries()
    if trips:
        trips.take()
    return requested.token, sms.sent[-1].text.split()[3].rstrip("."), spent


async def test_each_request_makes_no_more_redis_round_trips_than_its_budget(
    service: tuple[Service, RecordingSmsGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, sms = service
    await log_in(api, sms, "+79990000001", "10.0.0.1", None)  # loads the scripts
    trips = RoundTrips(monkeypatch)
    spent: dict[str, int] = {}

    token, code, spent["login"] = await log_in(api, sms, "+79990000002", "10.0.0.2", trips)
    with pytest.raises(CodeInvalid):
        await api.verify(VerifyCode(token, f"{(int(code) + 1) % 10000:04d}", "10.0.0.2"))
    spent["verify, wrong code"] = trips.take()
    owner = await api.verify(VerifyCode(token, code, "10.0.0.2"))
    spent["verify, right code"] = trips.take()
    await api.get_profile(await api.authenticate(owner.session.token))
    spent["profile"] = trips.take()
    await api.get_profile(await api.authenticate(owner.session.token))
    spent["profile, again"] = trips.take()
    with pytest.raises(ReferralCodeNotFound):
        await api.apply_referral(await api.authenticate(owner.session.token), "ZZZZZZ")
    spent["apply, unknown code"] = trips.take()
    token, code, _ = await log_in(api, sms, "+79990000003", "10.0.0.3", trips)
    fan = await api.verify(VerifyCode(token, code, "10.0.0.3"))
    await api.authenticate(fan.session.token)  # the session's first read
    trips.take()
    user = await api.authenticate(fan.session.token)
    await api.apply_referral(user, owner.profile.invite_code)
    spent["apply, applied"] = trips.take()

    assert spent == BUDGET
