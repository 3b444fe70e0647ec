"""The shop's tests: the bonus and the referral commit together, and an error
of the shop's rolls both back (SQLite through aiosqlite, in a temporary file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bonus_shop import (
    REFERRAL_POINTS,
    WELCOME_POINTS,
    BudgetExhausted,
    apply_friend_code,
    bonuses,
    create_tables,
    sign_up,
)
from referrals import (
    CodeRequest,
    Policy,
    ReferralCodeNotFound,
    Service,
    Settings,
    Verified,
    VerifyCode,
    open_service,
)

pytestmark = pytest.mark.asyncio

FRIEND, ME = "+79997654321", "+79991234567"


@pytest_asyncio.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    # Codes come back in the login answer (tests and demos only; refused in prod).
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/shop.sqlite3", policy=Policy(expose_codes=True)
    )
    async with open_service(settings) as service:
        yield service


@pytest_asyncio.fixture
async def engine(service: Service, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/shop.sqlite3")
    await create_tables(engine)
    yield engine
    await engine.dispose()


async def signed_up(engine: AsyncEngine, service: Service, phone: str) -> Verified:
    requested = await service.request_code(CodeRequest(phone=phone, client_ip="10.0.0.1"))
    assert requested.code is not None
    return await sign_up(engine, service, VerifyCode(requested.token, requested.code, "10.0.0.1"))


async def points(engine: AsyncEngine) -> list[tuple[int, int, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(bonuses.c.referrals_user_id, bonuses.c.points, bonuses.c.reason).order_by(
                bonuses.c.id
            )
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def test_a_new_user_and_the_welcome_points_commit_together(
    engine: AsyncEngine, service: Service
) -> None:
    me = await signed_up(engine, service, ME)

    assert me.is_new_user
    assert await points(engine) == [(me.profile.id, WELCOME_POINTS, "welcome")]
    assert str((await service.get_user(me.profile.id)).phone) == ME


async def test_the_referral_and_its_bonus_commit_together(
    engine: AsyncEngine, service: Service
) -> None:
    friend = await signed_up(engine, service, FRIEND)
    me = await signed_up(engine, service, ME)

    profile = await apply_friend_code(
        engine, service, me.profile.id, friend.profile.invite_code, budget=1000
    )

    assert profile.used_invite_code == friend.profile.invite_code
    assert (await points(engine))[-1] == (me.profile.id, REFERRAL_POINTS, "referral")
    assert (await service.get_profile(friend.profile.id)).referred_count == 1


async def test_an_error_of_the_shops_rolls_back_the_referral_too(
    engine: AsyncEngine, service: Service
) -> None:
    friend = await signed_up(engine, service, FRIEND)
    me = await signed_up(engine, service, ME)
    before = await points(engine)

    with pytest.raises(BudgetExhausted):
        await apply_friend_code(
            engine, service, me.profile.id, friend.profile.invite_code, budget=0
        )

    assert await points(engine) == before
    assert (await service.get_profile(me.profile.id)).used_invite_code is None
    assert (await service.get_profile(friend.profile.id)).referred_count == 0


async def test_a_refused_code_pays_no_bonus(engine: AsyncEngine, service: Service) -> None:
    me = await signed_up(engine, service, ME)

    with pytest.raises(ReferralCodeNotFound):
        await apply_friend_code(engine, service, me.profile.id, "ZZZZZZ", budget=1000)

    assert [reason for _, _, reason in await points(engine)] == ["welcome"]
