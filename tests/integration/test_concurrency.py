"""The races of docs/rules.md on the real servers: PostgreSQL users, Redis stores.

Use cases run through the production wiring (``open_service``), so the
PostgreSQL locking scheme and the Redis scripts are what is tested; many
coroutines share a connection pool, so the database sees real concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import count

import pytest
from sqlalchemy import text

from referrals.adapters.sql import Database
from referrals.application.errors import TooManyAttempts
from referrals.application.policy import Policy
from referrals.application.ports import Limit
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.domain.errors import ChallengeExpired, ReferralAlreadyApplied, ReferralCycle
from referrals.service import Service, open_service
from referrals.settings import Settings
from tests.conftest import sqlalchemy_engine

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

_addresses = count(1)
RACE_CONNECTIONS = 6
"""PostgreSQL connections of the service under test (see ``production``)."""
RACE_TIMEOUT = 60.0
"""Seconds a racer may wait for a connection, a lock or a reply."""


def address() -> str:
    """A new client address, so per-address limits stay out of the way."""
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


@pytest.fixture(
    params=["direct", pytest.param("pgbouncer", marks=pytest.mark.pgbouncer)],
)
async def production(
    request: pytest.FixtureRequest,
    postgres_database: Database,
    redis_server_url: str,
    redis_prefix: str,
) -> AsyncIterator[tuple[Service, Database]]:
    """The service on PostgreSQL, directly or through PgBouncer in transaction mode.

    Its pool is smaller than the races (50 verifies, 40 applications), so
    they wait in line for a connection and the database sees
    ``RACE_CONNECTIONS`` of them at once: enough for every race here (the
    widest that needs each racer inside at once is a ring of three), and
    few of the server's ``max_connections``, which other tests and other
    runs on the same server share: the test owns what it opens. The
    dependencies' timeout is long, so a loaded machine makes the racers
    wait, not answer 503; every loser must then have lost the race.
    """
    pooled = request.param == "pgbouncer"
    url = request.getfixturevalue("pgbouncer_url") if pooled else postgres_database.url
    settings = Settings(
        database_url=url,
        db_transaction_pooler=pooled,
        redis_url=redis_server_url,
        redis_prefix=redis_prefix,
        secret_key=b"k" * 32,
        db_pool_size=RACE_CONNECTIONS,
        dependency_timeout=RACE_TIMEOUT,
        sms_delay=(0.0, 0.0),
        # Tens of numbers of one block sign in here: lift that block's limit.
        policy=Policy(expose_codes=True, prefix_send=Limit(1_000, 3_600)),
    )
    async with open_service(settings) as service:
        yield service, postgres_database


async def sign_in(use_cases: Service, phone: str) -> tuple[int, str]:
    """A new user's id and invite code."""
    requested = await use_cases.request_code(CodeRequest(phone, address()))
    assert requested.code is not None
    verified = await use_cases.verify(VerifyCode(requested.token, requested.code, address()))
    return verified.profile.id, verified.profile.invite_code


async def count_rows(database: Database, where: str = "true") -> int:
    query = text(f"SELECT count(*) FROM referrals_users WHERE {where}")  # noqa: S608 - the tests' own
    with sqlalchemy_engine(database.url) as engine, engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


async def test_fifty_concurrent_verifications_open_one_session_and_create_one_user(
    production: tuple[Service, Database],
) -> None:
    use_cases, database = production
    requested = await use_cases.request_code(CodeRequest("+79991234567", address()))
    assert requested.code is not None
    results = await asyncio.gather(
        *(
            use_cases.verify(VerifyCode(requested.token, requested.code, address()))
            for _ in range(50)
        ),
        return_exceptions=True,
    )
    sessions = [r for r in results if not isinstance(r, BaseException)]
    assert len(sessions) == 1, results
    losers = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, ChallengeExpired) for r in losers), losers
    assert await count_rows(database) == 1


async def test_concurrent_applications_by_one_user_have_one_winner(
    production: tuple[Service, Database],
) -> None:
    use_cases, database = production
    user, _ = await sign_in(use_cases, "+79990000000")
    codes = [(await sign_in(use_cases, f"+7999000{i:04d}"))[1] for i in range(1, 21)]
    results = await asyncio.gather(
        *(use_cases.apply_referral(user, code) for code in codes), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    # The losers lost the race, or arrived while the user's ten possible
    # failures were all in flight (each application is charged one first).
    losers = [r for r in results if r not in winners]
    assert all(isinstance(r, ReferralAlreadyApplied | TooManyAttempts) for r in losers), losers
    assert await count_rows(database, "referred_count = 1") == 1
    assert await count_rows(database, "referrer_id IS NOT NULL") == 1


async def test_mutual_applications_never_both_succeed(
    production: tuple[Service, Database],
) -> None:
    use_cases, database = production
    for round_ in range(30):
        a, a_code = await sign_in(use_cases, f"+7999100{2 * round_:04d}")
        b, b_code = await sign_in(use_cases, f"+7999100{2 * round_ + 1:04d}")
        results = await asyncio.gather(
            use_cases.apply_referral(a, b_code),
            use_cases.apply_referral(b, a_code),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 1, results
        assert any(isinstance(r, ReferralCycle) for r in results), results
    assert await count_rows(database, "referrer_id IS NOT NULL") == 30


async def test_a_ring_of_three_applying_at_once_never_closes(
    production: tuple[Service, Database],
) -> None:
    use_cases, database = production
    for round_ in range(15):
        members = [await sign_in(use_cases, f"+7999200{3 * round_ + i:04d}") for i in range(3)]
        results = await asyncio.gather(
            *(use_cases.apply_referral(members[i][0], members[(i + 1) % 3][1]) for i in range(3)),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 2, results
        assert sum(isinstance(r, ReferralCycle) for r in results) == 1, results
    assert await count_rows(database, "referrer_id IS NOT NULL") == 30


async def test_many_users_applying_one_popular_code_all_count(
    production: tuple[Service, Database],
) -> None:
    use_cases, _ = production
    owner, code = await sign_in(use_cases, "+79993000000")
    fans = [(await sign_in(use_cases, f"+7999300{i:04d}"))[0] for i in range(1, 41)]
    await asyncio.gather(*(use_cases.apply_referral(fan, code) for fan in fans))
    profile = await use_cases.get_profile(owner, limit=1000)
    assert profile.referred_count == 40
    assert len(profile.referred_phones) == 40
    assert len(set(profile.referred_phones)) == 40
